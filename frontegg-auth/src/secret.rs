//! Newtypes for secrets: their `Debug` and `Display` never show the value.

use std::fmt;

macro_rules! secret {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret itself. Every call site is a place where the secret leaves its box:
            /// keep them few and never log what they return.
            pub fn expose(&self) -> &str {
                &self.0
            }

            #[allow(dead_code)] // not every kind of secret is checked for emptiness
            pub(crate) fn is_empty(&self) -> bool {
                self.0.trim().is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        // Read from Frontegg's answers (a created token's secret); never written back out by serde.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self)
            }
        }
    };
}
#[cfg_attr(not(feature = "redis"), allow(unused_imports))] // used by the shared cache
pub(crate) use secret;

secret! {
    /// A Frontegg environment API key (`FRONTEGG_API_KEY`), the secret half of the vendor credentials.
    ///
    /// ```
    /// use frontegg_auth::ApiKey;
    /// let key = ApiKey::new("s3cr3t");
    /// assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
    /// ```
    ApiKey
}

secret! {
    /// The shared secret of an environment switched to HS256 (Frontegg's `jwtSecret`).
    ///
    /// Only ever configured explicitly: the library never takes it from the vendor configuration.
    ///
    /// ```
    /// use frontegg_auth::JwtSecret;
    /// assert_eq!(format!("{:?}", JwtSecret::new("k")), "JwtSecret(<redacted>)");
    /// ```
    JwtSecret
}

secret! {
    /// A bearer credential: a JWT as presented by a caller, or a vendor token.
    ///
    /// ```
    /// use frontegg_auth::TokenString;
    /// assert_eq!(format!("{:?}", TokenString::new("eyJ...")), "TokenString(<redacted>)");
    /// ```
    TokenString
}

secret! {
    /// The secret of an API token (client credentials), which Frontegg returns once, when the
    /// token is created; exchanged for a JWT by [`TokenExchange`](crate::api::TokenExchange).
    ///
    /// ```
    /// use frontegg_auth::api::ClientSecret;
    /// assert_eq!(format!("{:?}", ClientSecret::new("5f0c...")), "ClientSecret(<redacted>)");
    /// ```
    ClientSecret
}

secret! {
    /// The value of an access token (a JWT sent as `x-api-key`), which Frontegg returns once,
    /// when the token is created.
    ///
    /// ```
    /// use frontegg_auth::api::AccessTokenSecret;
    /// assert_eq!(format!("{:?}", AccessTokenSecret::new("eyJ...")), "AccessTokenSecret(<redacted>)");
    /// ```
    AccessTokenSecret
}

secret! {
    /// A one-time token: of an activation or password-reset link, or of an invitation.
    ///
    /// ```
    /// use frontegg_auth::api::OneTimeToken;
    /// assert_eq!(format!("{:?}", OneTimeToken::new("abc")), "OneTimeToken(<redacted>)");
    /// ```
    OneTimeToken
}

secret! {
    /// A link that carries a one-time token (activation, password reset): whoever holds it can
    /// act as the user it was made for.
    ///
    /// ```
    /// use frontegg_auth::api::SecretLink;
    /// assert_eq!(format!("{:?}", SecretLink::new("https://...")), "SecretLink(<redacted>)");
    /// ```
    SecretLink
}
