//! A module's pages and endpoints: the axum router, and the list of what it serves (method
//! and path). The authorization matrix (`appliance/tests/it/authorization.rs`) reads that list,
//! so a route added anywhere is checked against every profile without anyone keeping a
//! second list by hand; the JSON API's routes come from its OpenAPI document the same way.

use std::convert::Infallible;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, Route};
use tower::{Layer, Service};

use super::AppState;

/// Routes and the list of what they serve.
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    served: Vec<(Method, String)>,
}

impl Routes {
    /// No routes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `GET path`.
    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.add(Method::GET, path, axum::routing::get(handler))
    }

    /// `POST path`.
    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.add(Method::POST, path, axum::routing::post(handler))
    }

    /// `HEAD path`.
    pub fn head<H: Handler<T, AppState>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.add(Method::HEAD, path, axum::routing::head(handler))
    }

    /// `PATCH path`.
    pub fn patch<H: Handler<T, AppState>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.add(Method::PATCH, path, axum::routing::patch(handler))
    }

    fn add(mut self, method: Method, path: &str, route: MethodRouter<AppState>) -> Self {
        // axum merges the methods of one path across calls.
        self.router = self.router.route(path, route);
        self.served.push((method, path.to_owned()));
        self
    }

    /// These routes and `other`'s.
    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.served.extend(other.served);
        self
    }

    /// Wraps these routes (only) in `layer`, as [`Router::layer`] does.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    /// What these routes serve: method and path template (`/classes/{id}/homework`).
    pub fn served(&self) -> &[(Method, String)] {
        &self.served
    }

    /// The router.
    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}
