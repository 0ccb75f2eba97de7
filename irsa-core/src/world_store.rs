//! The one mutable place of the emulated account: the current [`World`], shared by STS, IAM and
//! the gateway. Readers take a cheap immutable snapshot per request (AWS evaluates a role's
//! current policies at request time); the IAM API replaces the world atomically, all or nothing.

use std::sync::{Arc, PoisonError, RwLock};

use crate::world::World;

#[derive(Debug)]
pub struct WorldStore {
    current: RwLock<Arc<World>>,
}

impl WorldStore {
    pub fn new(world: World) -> Self {
        Self {
            current: RwLock::new(Arc::new(world)),
        }
    }

    /// The world as it is now; later updates do not change it.
    pub fn snapshot(&self) -> Arc<World> {
        // A poisoned lock only means a writer panicked; the `Arc` inside is still whole.
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Apply `change` to a copy of the world and publish it if `change` succeeds; on `Err` the
    /// world is unchanged. Updates are serialised: no change is lost to a concurrent one.
    pub fn update<T, E>(&self, change: impl FnOnce(&mut World) -> Result<T, E>) -> Result<T, E> {
        let mut guard = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let mut next = World::clone(&guard);
        let out = change(&mut next)?;
        *guard = Arc::new(next);
        Ok(out)
    }
}

impl From<World> for WorldStore {
    fn from(world: World) -> Self {
        Self::new(world)
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn world() -> World {
        World::empty("111122223333".into(), "eu-west-1".into())
    }

    #[test]
    fn an_update_is_seen_by_later_snapshots_only() {
        let store = WorldStore::new(world());
        let before = store.snapshot();
        store
            .update(|w| {
                w.region = "us-west-2".into();
                Ok::<_, ()>(())
            })
            .unwrap();
        assert_eq!(before.region, "eu-west-1");
        assert_eq!(store.snapshot().region, "us-west-2");
    }

    #[test]
    fn a_failed_update_changes_nothing() {
        let store = WorldStore::new(world());
        let result = store.update(|w| {
            w.region = "us-west-2".into();
            Err::<(), _>("refused")
        });
        assert_eq!(result, Err("refused"));
        assert_eq!(store.snapshot().region, "eu-west-1");
    }
}
