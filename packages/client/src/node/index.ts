// Node-only helpers: they import node:http types and read request streams.
export { webhookReceiver, type WebhookReceiverOptions } from './webhook-receiver.js';
