/** The own-handler target kinds a consumer can be written for, as the route table names them. */
export const CONSUMER_KINDS = ['queue', 'function'] as const;

export type ConsumerKind = (typeof CONSUMER_KINDS)[number];
