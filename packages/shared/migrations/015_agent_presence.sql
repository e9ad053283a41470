-- Each agent's workers and busy workers, renewed every few seconds: kiln server's /metrics
-- reads them (with the queue depths) so an autoscaler can add or remove agents.
CREATE TABLE IF NOT EXISTS agents (
  id          text PRIMARY KEY,
  host        text NOT NULL,
  arch        text NOT NULL,
  workers     integer NOT NULL CHECK (workers >= 0),
  busy        integer NOT NULL CHECK (busy >= 0),
  started_at  timestamptz NOT NULL DEFAULT now(),
  seen_at     timestamptz NOT NULL DEFAULT now(),
  -- Set by an agent that stopped cleanly; an agent that died just stops being seen.
  stopped_at  timestamptz
);
