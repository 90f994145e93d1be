//! Who is calling: API keys map to a user and a role, which the `identity.user` and
//! `identity.role` signals read. A client cannot set its identity with a header; only an
//! operator can, by naming headers that a fronting proxy sets (and strips from clients).
//!
//! The key table is plain text, one key a line: `KEY USER [ROLE]`, separated by spaces or
//! tabs; `#` starts a comment line and blank lines are skipped. The same lines may come from
//! the environment variable [`KEYS_ENV`], where `;` also separates entries. Keys are kept as
//! SHA-256 digests, so the table in memory does not hold them and a lookup takes the same
//! time whatever prefix of a key a client guesses.
//!
//! Without any key configured the gateway is open and the identity is absent (unless
//! trusted headers supply it); with keys, a request to the API without a known key is a 401
//! and nothing is sent upstream.

use std::collections::HashMap;
use std::path::PathBuf;

use axum::http::{header, HeaderMap};
use sha2::{Digest, Sha256};

use super::error::ApiError;

/// The environment variable read for API keys besides (or instead of) a file.
pub const KEYS_ENV: &str = "ROUTERC_API_KEYS";

/// The caller as the policy sees it; either field may be unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub user: Option<String>,
    pub role: Option<String>,
}

/// Where identities come from, as the operator configured it.
#[derive(Clone, Debug, Default)]
pub struct IdentityOptions {
    /// The key file (`--api-keys`), read at start-up and on every reload.
    pub keys_file: Option<PathBuf>,
    /// The key lines from [`KEYS_ENV`], read once at start-up.
    pub keys_env: Option<String>,
    /// A header a fronting proxy sets to the authenticated user (`--trust-user-header`).
    pub user_header: Option<String>,
    /// A header a fronting proxy sets to the caller's role (`--trust-role-header`).
    pub role_header: Option<String>,
}

/// The API keys and the trusted headers.
#[derive(Debug, Default)]
pub struct Authenticator {
    /// `None` when no key is configured: the gateway is open.
    keys: Option<HashMap<[u8; 32], Identity>>,
    user_header: Option<String>,
    role_header: Option<String>,
}

impl Authenticator {
    /// Reads the key file and the environment's keys; every problem is reported with its
    /// place (`file:line`), and a configured source without any key is an error rather than
    /// a gateway that turns everyone away.
    pub fn load(options: &IdentityOptions) -> Result<Authenticator, String> {
        let mut keys: Option<HashMap<[u8; 32], Identity>> = None;
        if let Some(path) = &options.keys_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the API keys `{}`: {e}", path.display()))?;
            let table = keys.get_or_insert_with(HashMap::new);
            let added = parse(&text, &path.display().to_string(), table, false)?;
            if added == 0 {
                return Err(format!("`{}` holds no API keys", path.display()));
            }
        }
        if let Some(text) = &options.keys_env {
            let table = keys.get_or_insert_with(HashMap::new);
            let added = parse(text, KEYS_ENV, table, true)?;
            if added == 0 {
                return Err(format!("`{KEYS_ENV}` is set but holds no API keys"));
            }
        }
        let header = |name: &Option<String>| -> Result<Option<String>, String> {
            match name {
                None => Ok(None),
                Some(n) => axum::http::HeaderName::try_from(n.as_str())
                    .map(|h| Some(h.as_str().to_string()))
                    .map_err(|_| format!("`{n}` is not a valid header name")),
            }
        };
        Ok(Authenticator {
            keys,
            user_header: header(&options.user_header)?,
            role_header: header(&options.role_header)?,
        })
    }

    pub fn requires_key(&self) -> bool {
        self.keys.is_some()
    }

    /// The caller's identity, or the 401 to answer. A trusted header, when present, gives
    /// its field even when a key authenticated the request: the proxy that set it knows
    /// more about the caller than the key it uses.
    pub fn identify(&self, headers: &HeaderMap) -> Result<Identity, ApiError> {
        let mut identity = match &self.keys {
            None => Identity::default(),
            Some(keys) => {
                let Some(value) = headers.get(header::AUTHORIZATION) else {
                    return Err(ApiError::unauthorized(
                        "no API key given; send `Authorization: Bearer <key>`".into(),
                    ));
                };
                // The scheme is case-insensitive (RFC 9110); the key is what follows it.
                let key = value
                    .to_str()
                    .ok()
                    .and_then(|v| v.trim().split_once(' '))
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map(|(_, key)| key.trim())
                    .ok_or_else(|| {
                        ApiError::unauthorized(
                            "the `Authorization` header must be `Bearer <key>`".into(),
                        )
                    })?;
                keys.get(&digest(key)).cloned().ok_or_else(|| {
                    ApiError::unauthorized("the API key given is not valid".into())
                })?
            }
        };
        let read = |name: &Option<String>| {
            name.as_ref()
                .and_then(|n| headers.get(n.as_str()))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        if let Some(user) = read(&self.user_header) {
            identity.user = Some(user);
        }
        if let Some(role) = read(&self.role_header) {
            identity.role = Some(role);
        }
        Ok(identity)
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Adds the keys of `text` to `table`; returns how many.
fn parse(
    text: &str,
    origin: &str,
    table: &mut HashMap<[u8; 32], Identity>,
    semicolons: bool,
) -> Result<usize, String> {
    let mut added = 0;
    let lines: Vec<&str> = if semicolons {
        text.split(['\n', ';']).collect()
    } else {
        text.lines().collect()
    };
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{origin}:{}", i + 1);
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (key, user, role) = match fields.as_slice() {
            [key, user] => (*key, *user, None),
            [key, user, role] => (*key, *user, Some(role.to_string())),
            _ => {
                return Err(format!(
                    "{at}: expected `KEY USER [ROLE]`, found {} fields",
                    fields.len()
                ))
            }
        };
        let identity = Identity {
            user: Some(user.to_string()),
            role,
        };
        if table.insert(digest(key), identity).is_some() {
            return Err(format!("{at}: this API key is listed twice"));
        }
        added += 1;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn auth(lines: &str, role_header: Option<&str>) -> Authenticator {
        Authenticator::load(&IdentityOptions {
            keys_env: Some(lines.into()),
            role_header: role_header.map(str::to_string),
            ..IdentityOptions::default()
        })
        .unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn keys_map_to_users_and_roles() {
        let a = auth("# comment\nk1 alice admin\n\nk2 bob;k3 carol staff", None);
        let id = a
            .identify(&headers(&[("authorization", "Bearer k1")]))
            .unwrap();
        assert_eq!(id.user.as_deref(), Some("alice"));
        assert_eq!(id.role.as_deref(), Some("admin"));
        let id = a
            .identify(&headers(&[("authorization", "bearer  k2")]))
            .unwrap();
        assert_eq!((id.user.as_deref(), id.role), (Some("bob"), None));
        assert_eq!(
            a.identify(&headers(&[("authorization", "Bearer k3")]))
                .unwrap()
                .role
                .as_deref(),
            Some("staff")
        );
        for bad in [
            &[][..],
            &[("authorization", "Bearer nope")],
            &[("authorization", "k1")],
        ] {
            let e = a.identify(&headers(bad)).unwrap_err();
            assert_eq!(e.status.as_u16(), 401, "{bad:?}");
        }
    }

    #[test]
    fn a_client_header_is_not_an_identity_unless_trusted() {
        let open = Authenticator::default();
        let id = open.identify(&headers(&[("x-role", "admin")])).unwrap();
        assert_eq!(id, Identity::default());
        let trusting = Authenticator::load(&IdentityOptions {
            role_header: Some("X-Role".into()),
            ..IdentityOptions::default()
        })
        .unwrap();
        let id = trusting.identify(&headers(&[("x-role", "admin")])).unwrap();
        assert_eq!(id.role.as_deref(), Some("admin"));
    }

    #[test]
    fn bad_tables_say_where() {
        let e = Authenticator::load(&IdentityOptions {
            keys_env: Some("k1 alice\nk1 bob".into()),
            ..IdentityOptions::default()
        })
        .unwrap_err();
        assert_eq!(e, "ROUTERC_API_KEYS:2: this API key is listed twice");
        let e = Authenticator::load(&IdentityOptions {
            keys_env: Some("k1 alice admin extra".into()),
            ..IdentityOptions::default()
        })
        .unwrap_err();
        assert!(e.contains(":1: expected `KEY USER [ROLE]`"), "{e}");
        let e = Authenticator::load(&IdentityOptions {
            keys_env: Some("# none\n".into()),
            ..IdentityOptions::default()
        })
        .unwrap_err();
        assert!(e.contains("holds no API keys"), "{e}");
    }
}
