//! The animated pipeline diagram: producer → stages → consumer group (→ downstream), drawn
//! on a canvas from a [`Snapshot`](bplab_engine::Snapshot) (fill levels, lag per partition, members, heaps,
//! workers, permits) and animated from the engine's trace (what moved where), never from
//! a separate fake animation.
//!
//! - Movement is shown as flow density ([`flow`]): at most one dot per path every tenth of
//!   a second, sized by the messages it stands for, with each link's measured rate, so the
//!   picture reads the same at 1,000 and 1,000,000 msg/s. Messages are circles, poll
//!   requests triangles, credits and demand diamonds, commits squares.
//! - With reduced motion nothing moves: links carrying traffic show fixed chevrons and the
//!   numbers update stepwise.
//! - Text is measured ([`crate::canvas::text`]); a label that does not fit is shortened or left out.
//! - Wide canvases are laid out left to right, narrow ones (< 600 CSS px) top to bottom
//!   ([`layout`]); the top-to-bottom layout sets the canvas's height to what it needs.
//!
//! [`Diagram`] (`state`) is the state between frames, pure and tested natively; `scene`
//! draws it, with the painters grouped by what they draw; the pen and measured text are
//! the shared `canvas` toolkit.

mod consumer;
mod drops;
mod flow;
pub(crate) mod layout;
mod links;
mod motion;
mod nodes;
mod scene;
mod state;
mod topic;

pub use state::Diagram;
