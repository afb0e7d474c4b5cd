//! Short-lived TURN credentials in coturn's shared-secret scheme (`use-auth-secret`, the
//! "TURN REST API"): the user name is `<expiry>:<user id>`, the password the base64 of
//! HMAC-SHA1 of that name under the secret shared with coturn, so coturn checks them without
//! asking Flint and they stop working at the expiry.

use base64::Engine;
use flint_proto::wire;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::config::CallSettings;
use crate::store::UserId;

/// The ICE servers one user gets for one call, TURN credentials valid until `now_secs` plus
/// the configured lifetime.
pub fn ice_servers(
    settings: &CallSettings,
    user_id: UserId,
    now_secs: u64,
) -> Vec<wire::IceServer> {
    let mut servers = Vec::new();
    if !settings.stun_urls.is_empty() {
        servers.push(wire::IceServer {
            urls: settings.stun_urls.clone(),
            ..Default::default()
        });
    }
    if let (false, Some(secret)) = (settings.turn_urls.is_empty(), &settings.turn_secret) {
        let username = format!(
            "{}:{user_id}",
            now_secs.saturating_add(settings.turn_ttl_secs)
        );
        servers.push(wire::IceServer {
            urls: settings.turn_urls.clone(),
            credential: password(secret.expose(), &username),
            username,
        });
    }
    servers
}

/// The password coturn expects for `username` under `secret`.
fn password(secret: &str, username: &str) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_coturns_hmac_sha1_of_the_name() {
        // `echo -n "1700000000:42" | openssl dgst -sha1 -hmac "north" -binary | base64`
        assert_eq!(
            password("north", "1700000000:42"),
            "DWX3FI7DiPIpadEYQAZsnZBAagI="
        );
    }

    #[test]
    fn turn_credentials_expire_after_the_lifetime_and_name_the_user() {
        let settings = CallSettings {
            stun_urls: vec!["stun:127.0.0.1:3478".into()],
            turn_urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
            turn_secret: Some("north".into()),
            turn_ttl_secs: 600,
            ..CallSettings::default()
        };
        let servers = ice_servers(&settings, 42, 1_000);
        assert_eq!(servers.len(), 2);
        assert!(servers[0].username.is_empty() && servers[0].credential.is_empty());
        assert_eq!(servers[1].username, "1600:42");
        assert_eq!(servers[1].credential, password("north", "1600:42"));
    }

    #[test]
    fn no_servers_configured_means_none_handed_out() {
        assert!(ice_servers(&CallSettings::default(), 1, 0).is_empty());
    }
}
