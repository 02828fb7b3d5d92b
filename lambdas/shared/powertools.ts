import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * One Logger and one Metrics per container, shared by every module of a function.
 * Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
 * POWERTOOLS_METRICS_NAMESPACE, which the project's function construct sets.
 */
export const logger = new Logger();
export const metrics = new Metrics();
