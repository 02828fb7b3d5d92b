/** The `source` of every event the ingest publishes; archives and routes select on it. */
export const FASTIO_EVENT_SOURCE = 'fastio';
