//! A commune's read models as its portal shows them: the portal itself, its news, and the
//! canteen's dishes by day.

use rusqlite::OptionalExtension;

use super::Tx;
use crate::error::Result;
use crate::kinds::canteen::DishRow;
use crate::kinds::commune::PortalRow;

impl Tx<'_> {
    fn commune_portal(&self, insee: &str, news: usize) -> Result<Option<PortalRow>> {
        let mut st = self.0.prepare_cached(
            "SELECT insee, name, contacts, presentation, periscolaire, public FROM commune WHERE insee = ?1",
        )?;
        let found = st
            .query_row([insee], |r| {
                Ok(PortalRow {
                    insee: r.get(0)?,
                    name: r.get(1)?,
                    contacts: r.get(2)?,
                    presentation: r.get(3)?,
                    periscolaire: r.get(4)?,
                    public: r.get::<_, i64>(5)? != 0,
                    news: Vec::new(),
                })
            })
            .optional()?;
        let Some(mut portal) = found else { return Ok(None) };
        let mut st = self.0.prepare_cached(&format!(
            "SELECT news_id, title, body, published_on FROM commune_news WHERE insee = ?1 AND withdrawn = 0
             ORDER BY published_on DESC, news_id LIMIT {news}"
        ))?;
        let rows = st.query_map([insee], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        portal.news = rows.collect::<rusqlite::Result<_>>()?;
        Ok(Some(portal))
    }

    fn canteen_dishes(&self, insee: &str, from: &str, to: &str) -> Result<Vec<DishRow>> {
        let mut st = self.0.prepare_cached(
            "SELECT day, course, name, allergens FROM canteen_dish WHERE insee = ?1 AND day >= ?2 AND day <= ?3
             ORDER BY day, position",
        )?;
        let rows = st.query_map([insee, from, to], |r| {
            let allergens: String = r.get(3)?;
            Ok(DishRow {
                day: r.get(0)?,
                course: r.get(1)?,
                name: r.get(2)?,
                allergens: allergens.split(',').filter(|a| !a.is_empty()).map(Into::into).collect(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl crate::reader::Reader {
    /// A commune's portal (`insee`), with its `news` newest items.
    pub fn commune_portal(&self, insee: &str, news: usize) -> Result<Option<PortalRow>> {
        self.storage.read(|tx| tx.commune_portal(insee, news))
    }

    /// A commune's canteen dishes from day `from` to day `to`, by day and order.
    pub fn canteen_dishes(&self, insee: &str, from: &str, to: &str) -> Result<Vec<DishRow>> {
        self.storage.read(|tx| tx.canteen_dishes(insee, from, to))
    }
}
