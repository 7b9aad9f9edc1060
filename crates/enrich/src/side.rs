//! The side of a post (own, competitor, audience) from the workspace's accounts.

use waterline_model::Post;
use waterline_model::config::SideResolver;

use crate::Enricher;

/// Sets `Post::side` from the configuration's owned and competitor accounts.
pub struct SideEnricher {
    resolver: SideResolver,
}

impl SideEnricher {
    /// Builds it from a resolver (`Config::side_resolver`).
    pub fn new(resolver: SideResolver) -> SideEnricher {
        SideEnricher { resolver }
    }
}

impl Enricher for SideEnricher {
    fn name(&self) -> &'static str {
        "side"
    }

    fn version(&self) -> u32 {
        1
    }

    fn enrich(&self, post: &mut Post) {
        post.side = Some(self.resolver.side(
            &post.platform,
            post.author_handle.as_deref(),
            post.author_id.as_deref(),
        ));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::Utc;
    use waterline_model::{Config, Side};

    use super::*;

    #[test]
    fn own_and_competitor_accounts_set_the_side() {
        let config = Config::parse(waterline_model::config::EXAMPLE).unwrap();
        let enricher = SideEnricher::new(config.side_resolver());
        let mut post = Post::new("x", "1", Utc::now());
        post.author_handle = Some("AcmeHealth".into());
        enricher.enrich(&mut post);
        assert_eq!(post.side, Some(Side::Own));
        post.author_handle = Some("rivalis".into());
        enricher.enrich(&mut post);
        assert_eq!(post.side, Some(Side::Competitor));
        post.author_handle = None;
        enricher.enrich(&mut post);
        assert_eq!(post.side, Some(Side::Audience));
    }
}
