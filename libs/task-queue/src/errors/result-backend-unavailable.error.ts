import { BrokerUnavailableError } from './broker-unavailable.error';

/**
 * The result backend did not answer within the documented bound, or is closed. It extends
 * BrokerUnavailableError so that code written to catch that (the only "unavailable" error before)
 * still catches a backend outage.
 */
export class ResultBackendUnavailableError extends BrokerUnavailableError {}
