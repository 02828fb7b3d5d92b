/**
 * Receives before a buffered message is moved to its dead-letter queue. In a module of its own so
 * that the operator CLI can name it without loading aws-cdk-lib, which costs every command about
 * half a second of start-up.
 */
export const MAX_RECEIVE_COUNT = 5;
