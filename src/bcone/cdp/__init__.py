"""Customer data platform: events in, identities, profiles, traits, tags, segments, consent."""
