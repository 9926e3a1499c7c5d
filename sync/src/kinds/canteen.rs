//! A commune's canteen menus for one week (partition `commune/{insee}`, key the ISO week,
//! `2026-W50`): each day's dishes with the allergens they contain, among the fourteen the
//! regulation names (règlement (UE) n° 1169/2011, annexe II). Held by the hub and the
//! commune's schools, whose servers show the week's menu offline.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::commune::insee_of;
use super::{DocKind, Kind, ProjectionContext, Row, Table, TableDef};

/// The fourteen allergens a menu must declare, by stored name.
pub const ALLERGENS: [&str; 14] = [
    "gluten",
    "crustaceans",
    "eggs",
    "fish",
    "peanuts",
    "soy",
    "milk",
    "nuts",
    "celery",
    "mustard",
    "sesame",
    "sulphites",
    "lupin",
    "molluscs",
];

/// The courses of a meal, in their order.
pub const COURSES: [&str; 6] = ["starter", "main", "side", "cheese", "dessert", "snack"];

/// One week's menus.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct CanteenMenu {
    /// By day (`YYYY-MM-DD`).
    pub days: BTreeMap<String, MenuDay>,
}

/// One day's menu.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct MenuDay {
    /// Its dishes, in the order served.
    pub dishes: Vec<Dish>,
    /// Who last changed it (a console account id).
    pub by: String,
}

/// A dish.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Dish {
    /// One of [`COURSES`].
    pub course: String,
    /// « Carottes râpées ».
    pub name: String,
    /// Among [`ALLERGENS`].
    pub allergens: Vec<String>,
}

/// `canteen_dish`: one row per dish.
pub(crate) const CANTEEN_DISH: TableDef =
    TableDef::new("canteen_dish", &["doc_id", "insee", "day", "position", "course", "name", "allergens"]);

impl DocKind for CanteenMenu {
    const KIND: Kind = Kind::CanteenMenu;
    type State = CanteenMenu;

    fn project(ctx: &ProjectionContext<'_>, state: &Self, out: &mut Vec<Row>) {
        let insee = insee_of(ctx);
        for (day, menu) in &state.days {
            for (position, dish) in menu.dishes.iter().enumerate() {
                out.push(Row::new(
                    Table::CanteenDish,
                    vec![
                        ctx.id.to_string().into(),
                        insee.as_str().into(),
                        day.as_str().into(),
                        (position as i64).into(),
                        dish.course.as_str().into(),
                        dish.name.as_str().into(),
                        dish.allergens.join(",").into(),
                    ],
                ));
            }
        }
    }
}

/// A dish as pages read it: its day, course, name and allergens.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DishRow {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// One of [`COURSES`].
    pub course: String,
    /// Its name.
    pub name: String,
    /// Among [`ALLERGENS`].
    pub allergens: Vec<String>,
}
