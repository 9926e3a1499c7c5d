//! A commune's read models as its portal shows them: the portal itself, its news, and the
//! canteen's dishes by day.

use super::Tx;
use super::sql::args;
use crate::error::Result;
use crate::kinds::canteen::DishRow;
use crate::kinds::commune::PortalRow;

impl Tx<'_> {
    fn commune_portal(&self, insee: &str, news: usize) -> Result<Option<PortalRow>> {
        let found = self.0.query_opt(
            "SELECT insee, name, contacts, presentation, periscolaire, public FROM commune WHERE insee = ?1",
            args![insee],
            |r| {
                Ok(PortalRow {
                    insee: r.get(0)?,
                    name: r.get(1)?,
                    contacts: r.get(2)?,
                    presentation: r.get(3)?,
                    periscolaire: r.get(4)?,
                    public: r.get::<i64>(5)? != 0,
                    news: Vec::new(),
                })
            },
        )?;
        let Some(mut portal) = found else { return Ok(None) };
        portal.news = self.0.query(
            &format!(
                "SELECT news_id, title, body, published_on FROM commune_news WHERE insee = ?1 AND withdrawn = 0
             ORDER BY published_on DESC, news_id LIMIT {news}"
            ),
            args![insee],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        Ok(Some(portal))
    }

    fn canteen_dishes(&self, insee: &str, from: &str, to: &str) -> Result<Vec<DishRow>> {
        self.0.query(
            "SELECT day, course, name, allergens FROM canteen_dish WHERE insee = ?1 AND day >= ?2 AND day <= ?3
             ORDER BY day, position",
            args![insee, from, to],
            |r| {
                let allergens: String = r.get(3)?;
                Ok(DishRow {
                    day: r.get(0)?,
                    course: r.get(1)?,
                    name: r.get(2)?,
                    allergens: allergens.split(',').filter(|a| !a.is_empty()).map(Into::into).collect(),
                })
            },
        )
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
