//! The simulated user: approves, denies, times out, approves after a delay (so UPNEEDED
//! keepalives are really sent), or presents the wrong finger (UV retries count down).

use std::collections::VecDeque;
use std::str::FromStr;
use std::time::{Duration, Instant};

use super::hid_server::Presence;
use crate::ctap2::StatusCode;
use crate::ctaphid::KeepaliveStatus;

/// What the simulated user does when the authenticator asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    /// Touches / verifies at once.
    Approve,
    /// Refuses (CTAP2_ERR_OPERATION_DENIED).
    Deny,
    /// Never answers (CTAP2_ERR_USER_ACTION_TIMEOUT after the timeout).
    Timeout,
    /// Touches / verifies after a delay.
    ApproveAfter(Duration),
    /// Presents a biometric that does not match (CTAP2_ERR_UV_INVALID, retries count down).
    BiometricMismatch,
}

impl FromStr for UserAction {
    type Err = String;
    /// `approve`, `deny`, `timeout`, `approve-after:MS`, `mismatch`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "approve" => Ok(UserAction::Approve),
            "deny" => Ok(UserAction::Deny),
            "timeout" => Ok(UserAction::Timeout),
            "mismatch" => Ok(UserAction::BiometricMismatch),
            other => match other.strip_prefix("approve-after:") {
                Some(ms) => ms
                    .parse::<u64>()
                    .map(|ms| UserAction::ApproveAfter(Duration::from_millis(ms)))
                    .map_err(|_| format!("approve-after needs milliseconds, got {ms:?}")),
                None => Err(format!(
                    "unknown user action {other:?}: use approve, deny, timeout, approve-after:MS or mismatch"
                )),
            },
        }
    }
}

/// The user's behaviour: a script of actions, then a default.
#[derive(Debug, Clone)]
pub struct UserSimulation {
    script: VecDeque<UserAction>,
    default: UserAction,
    /// How long the authenticator waits before giving up (CTAP2_ERR_USER_ACTION_TIMEOUT).
    pub timeout: Duration,
}

impl Default for UserSimulation {
    fn default() -> Self {
        UserSimulation {
            script: VecDeque::new(),
            default: UserAction::Approve,
            timeout: Duration::from_secs(30),
        }
    }
}

impl UserSimulation {
    /// Always `action`.
    pub fn always(action: UserAction) -> Self {
        UserSimulation {
            default: action,
            ..Default::default()
        }
    }

    /// `actions` in order, the last one then repeating (none: always approve), as the
    /// `--user` options give them; a prompt nobody answers times out after `timeout`.
    pub fn from_actions(actions: &[UserAction], timeout: std::time::Duration) -> Self {
        let (last, script) = actions
            .split_last()
            .map_or((UserAction::Approve, &[][..]), |(last, script)| {
                (*last, script)
            });
        let mut user = UserSimulation::always(last);
        user.set_script(script.iter().copied());
        user.timeout = timeout;
        user
    }

    /// Queues actions for the next requests (then the default applies).
    pub fn then(mut self, action: UserAction) -> Self {
        self.script.push_back(action);
        self
    }

    /// Replaces the script.
    pub fn set_script(&mut self, actions: impl IntoIterator<Item = UserAction>) {
        self.script = actions.into_iter().collect();
    }

    /// The next action.
    pub fn next_action(&mut self) -> UserAction {
        self.script.pop_front().unwrap_or(self.default)
    }

    /// Asks for user presence (touch), keeping the host informed with UPNEEDED keepalives.
    pub fn presence(&mut self, host: &mut dyn Presence) -> Result<(), StatusCode> {
        let action = self.next_action();
        self.wait(action, host).map(|_| ())
    }

    /// Asks for user presence and built-in verification in one gesture (a biometric
    /// sensor). Returns `Ok(true)` when verified, `Ok(false)` when the biometric did not match.
    pub fn verify(&mut self, host: &mut dyn Presence) -> Result<bool, StatusCode> {
        let action = self.next_action();
        self.wait(action, host)
    }

    fn wait(&self, action: UserAction, host: &mut dyn Presence) -> Result<bool, StatusCode> {
        let cancel = |_| StatusCode::KEEPALIVE_CANCEL;
        match action {
            UserAction::Approve => {
                host.tick(KeepaliveStatus::UpNeeded).map_err(cancel)?;
                Ok(true)
            }
            UserAction::BiometricMismatch => {
                host.tick(KeepaliveStatus::UpNeeded).map_err(cancel)?;
                Ok(false)
            }
            UserAction::Deny => {
                host.tick(KeepaliveStatus::UpNeeded).map_err(cancel)?;
                Err(StatusCode::OPERATION_DENIED)
            }
            UserAction::ApproveAfter(delay) => {
                self.wait_for(delay.min(self.timeout), host)?;
                if delay > self.timeout {
                    Err(StatusCode::USER_ACTION_TIMEOUT)
                } else {
                    Ok(true)
                }
            }
            UserAction::Timeout => {
                self.wait_for(self.timeout, host)?;
                Err(StatusCode::USER_ACTION_TIMEOUT)
            }
        }
    }

    fn wait_for(&self, duration: Duration, host: &mut dyn Presence) -> Result<(), StatusCode> {
        let start = Instant::now();
        loop {
            host.tick(KeepaliveStatus::UpNeeded)
                .map_err(|_| StatusCode::KEEPALIVE_CANCEL)?;
            let elapsed = start.elapsed();
            if elapsed >= duration {
                return Ok(());
            }
            std::thread::sleep((duration - elapsed).min(Duration::from_millis(20)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authenticator::hid_server::Cancelled;

    struct Counter(u32, Option<u32>);
    impl Presence for Counter {
        fn tick(&mut self, status: KeepaliveStatus) -> Result<(), Cancelled> {
            assert_eq!(status, KeepaliveStatus::UpNeeded);
            self.0 += 1;
            if Some(self.0) == self.1 {
                Err(Cancelled)
            } else {
                Ok(())
            }
        }
    }

    #[test]
    fn actions_map_to_ctap_statuses() {
        let mut u = UserSimulation::always(UserAction::Approve)
            .then(UserAction::Deny)
            .then(UserAction::BiometricMismatch);
        u.timeout = Duration::from_millis(60);
        let mut host = Counter(0, None);
        assert_eq!(u.presence(&mut host), Err(StatusCode::OPERATION_DENIED));
        assert_eq!(u.verify(&mut host), Ok(false));
        assert_eq!(u.presence(&mut host), Ok(()));
        u.set_script([
            UserAction::Timeout,
            UserAction::ApproveAfter(Duration::from_millis(30)),
        ]);
        assert_eq!(u.presence(&mut host), Err(StatusCode::USER_ACTION_TIMEOUT));
        let before = host.0;
        assert_eq!(u.presence(&mut host), Ok(()));
        assert!(host.0 - before >= 2, "keepalive ticks while waiting");
        let mut cancelling = Counter(0, Some(3));
        u.set_script([UserAction::Timeout]);
        assert_eq!(
            u.presence(&mut cancelling),
            Err(StatusCode::KEEPALIVE_CANCEL)
        );
    }

    #[test]
    fn parse_actions() {
        assert_eq!(
            "approve-after:250".parse(),
            Ok(UserAction::ApproveAfter(Duration::from_millis(250)))
        );
        assert!("approve-after:x".parse::<UserAction>().is_err());
        assert!("wave".parse::<UserAction>().is_err());
    }
}
