//! Identity: accounts, second-factor sign-in, sessions, and the rules of the seed document
//! (pp. 7–15): a second factor at every login, 10 failures lock for 60 minutes, 15 idle
//! minutes end a session, passwords of 8+ characters with 3 kinds expire after 3 months.

pub mod account;
mod admin;
mod bulk;
mod context;
pub mod demo;
mod graphql;
pub mod keys;
mod model;
pub mod password;
pub mod privacy;
pub mod secrets;
mod service;
mod signin;
mod store;
pub mod totp;
pub mod totp_vault;

pub use crate::actor::Username;
pub use context::{SessionGate, current_actor, request_meta, require_actor};
pub use graphql::{IdentityMutation, IdentityQuery, User, load_user_node};
pub use model::{Actor, Obligation, OrgScope, Role, SecondFactorMethod, UserRecord, UserStatus};
pub use service::Identity;
pub use signin::SESSION_ENDED;
