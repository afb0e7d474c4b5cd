//! The one `flint:event` listener of the app's life hands each event to the signed-in window's
//! state, if one is mounted. A window starting up gets the events that race its first
//! snapshots afterwards, on top of them; a window gone (signed out) gets nothing, so no event
//! ever reaches disposed state.

use flint_proto::ipc::Event;
use leptos::prelude::*;

use super::Live;

/// Where events go now.
enum Target {
    /// No signed-in window.
    Nobody,
    /// A window reading its first snapshots: events wait.
    Holding(Live, Vec<Event>),
    /// A window that takes events as they come.
    Delivering(Live),
}

/// The router, created once at the app's root; cheap to copy.
#[derive(Clone, Copy)]
pub struct EventRouter {
    target: StoredValue<Target, LocalStorage>,
}

impl Default for EventRouter {
    fn default() -> Self {
        Self {
            target: StoredValue::new_local(Target::Nobody),
        }
    }
}

impl EventRouter {
    /// A window mounted: hold its events until [`EventRouter::ready`].
    pub fn attach(&self, live: Live) {
        self.target.set_value(Target::Holding(live, Vec::new()));
    }

    /// The window `live` read its snapshots: replay what was held, then deliver as events
    /// come. A window that is no longer the attached one (signed out meanwhile) changes
    /// nothing.
    pub fn ready(&self, live: Live) {
        let held = self.target.try_update_value(|target| {
            match std::mem::replace(target, Target::Nobody) {
                Target::Holding(attached, held) if attached.is(&live) => {
                    *target = Target::Delivering(attached);
                    Some((attached, held))
                }
                other => {
                    *target = other;
                    None
                }
            }
        });
        if let Some(Some((live, held))) = held {
            for event in held {
                live.apply(event);
            }
        }
    }

    /// The window is going away: nothing reaches it any more.
    pub fn detach(&self) {
        self.target.set_value(Target::Nobody);
    }

    /// Hands one event to the window (or holds it, or drops it when there is none).
    pub fn deliver(&self, event: Event) {
        let now = self.target.try_update_value(|target| match target {
            Target::Nobody => None,
            Target::Holding(_, held) => {
                held.push(event.clone());
                None
            }
            Target::Delivering(live) => Some(*live),
        });
        if let Some(Some(live)) = now {
            live.apply(event);
        }
    }
}
