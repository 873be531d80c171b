//! The exam kiosk's privileged helper (`exam-kiosk-helper`).
//!
//! The kiosk runs as the unprivileged `examkiosk` user. The few things it
//! needs root for — ending processes of other users, the kernel's
//! process-event connector, reading DMI serials, switching the magic SysRq
//! key off for the exam — it asks of this helper over a Unix socket.
//!
//! The helper trusts nothing it is sent:
//!
//! * the peer's user id comes from the kernel (`SO_PEERCRED`), and only the
//!   one configured kiosk user is served;
//! * a request is one line of JSON of at most [`protocol::MAX_REQUEST_BYTES`],
//!   carrying the protocol version [`protocol::PROTOCOL_VERSION`], one of a
//!   closed set of operations, and no unknown fields;
//! * anything else is refused with a reason and logged.
//!
//! [`protocol`] holds the wire types, [`client`] a small blocking client for
//! the kiosk, and (Linux only) [`server`] the helper itself and [`process`]
//! the `/proc`, pidfd and process-connector primitives it shares with the
//! kiosk's guard.

pub mod client;
#[cfg(target_os = "linux")]
pub mod process;
pub mod protocol;
#[cfg(target_os = "linux")]
pub mod server;
