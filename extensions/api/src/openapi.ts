import { FILTER_KEYS } from './filter';

const filterParams = [
  { name: 'filter', in: 'query', schema: { type: 'string' }, description: 'key=v1|v2,key2=v (keys: ' + FILTER_KEYS.join(', ') + '); severity means "at least"' },
  ...FILTER_KEYS.map((k) => ({ name: k, in: 'query', schema: { type: 'string' } })),
];
const paging = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 }, description: 'page size (at most max_page_size; larger is a 400)' },
  { name: 'page_token', in: 'query', schema: { type: 'string' }, description: 'next_page_token from the previous page' },
];
const errors = {
  '400': { description: 'malformed filter, page size or id', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
  '401': { description: 'missing or wrong bearer token' },
};
const json = (ref: string) => ({ description: 'OK', content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } });
const sse = { description: 'text/event-stream; each message has an id (resume with Last-Event-ID) and JSON data', content: { 'text/event-stream': { schema: { type: 'string' } } } };

/** The OpenAPI 3.1 description served at /api/v1/openapi.json. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'Tapio API', version: '1.0.0', description: 'Events and incidents stored by the tapio exporter; the same data as the gRPC service tapio.api.v1.TapioApi.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths: {
      '/api/v1/health': { get: { summary: 'Store and stream statistics', responses: { '200': json('Health'), ...errors } } },
      '/api/v1/events': { get: { summary: 'Stored events, newest first', parameters: [...filterParams, { name: 'since', in: 'query', schema: { type: 'string' } }, { name: 'until', in: 'query', schema: { type: 'string' } }, ...paging], responses: { '200': json('EventPage'), ...errors } } },
      '/api/v1/events/{id}': { get: { summary: 'One raw event', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': json('UnifiedEvent'), '404': { description: 'unknown id' }, ...errors } } },
      '/api/v1/events/stream': { get: { summary: 'Live events (Server-Sent Events, event: event)', parameters: filterParams, responses: { '200': sse, '503': { description: 'too many stream clients' }, ...errors } } },
      '/api/v1/incidents': { get: { summary: 'Incidents, newest first', parameters: [{ name: 'status', in: 'query', schema: { enum: ['open', 'resolved'] } }, { name: 'service', in: 'query', schema: { type: 'string' } }, ...paging], responses: { '200': json('IncidentPage'), ...errors } } },
      '/api/v1/incidents/{id}': { get: { summary: 'One incident', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': json('Incident'), '404': { description: 'unknown id' }, ...errors } } },
      '/api/v1/incidents/{id}/events': { get: { summary: "The stored events of an incident's chain", parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': json('EventPage'), '404': { description: 'unknown id' }, ...errors } } },
      '/api/v1/incidents/{id}/actions': { get: { summary: 'Recommendations read as Kubernetes actions (dry run: nothing is changed; apply with tapio-cli incidents apply)', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'OK' }, '404': { description: 'unknown id' }, ...errors } } },
      '/api/v1/incidents/stream': { get: { summary: 'Live incidents (Server-Sent Events, event: incident)', parameters: [{ name: 'status', in: 'query', schema: { enum: ['open', 'resolved'] } }, { name: 'service', in: 'query', schema: { type: 'string' } }], responses: { '200': sse, ...errors } } },
      '/api/v1/correlate': { get: { summary: 'Correlation summary for one trace, computed from stored events', parameters: [{ name: 'trace_id', in: 'query', required: true, schema: { type: 'string', pattern: '^[0-9a-fA-F]{1,64}$' } }], responses: { '200': json('CorrelationSummary'), '404': { description: 'no stored events for the trace' }, ...errors } } },
      '/api/v1/servicemap': { get: { summary: 'Service call graph learned from spans, with health', responses: { '200': json('ServiceMap'), ...errors } } },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: { type: 'object', properties: { error: { type: 'string' }, status: { type: 'integer' } } },
        UnifiedEvent: { type: 'object', description: 'See core/src/event/types.ts', required: ['id', 'time', 'kind', 'source', 'severity'], properties: { id: { type: 'string' }, time: { type: 'number', description: 'unix ns' }, kind: { type: 'string' }, source: { type: 'string' }, severity: { type: 'string' } }, additionalProperties: true },
        EventPage: { type: 'object', properties: { events: { type: 'array', items: { $ref: '#/components/schemas/UnifiedEvent' } }, next_page_token: { type: 'string' } } },
        Incident: { type: 'object', description: 'See core/src/incident.ts', required: ['id', 'status', 'title', 'chain'], additionalProperties: true },
        IncidentPage: { type: 'object', properties: { incidents: { type: 'array', items: { $ref: '#/components/schemas/Incident' } }, next_page_token: { type: 'string' } } },
        CorrelationSummary: { type: 'object', additionalProperties: true, properties: { traceId: { type: 'string' }, rootCause: { type: 'object' }, impact: { type: 'object' }, affectedUsers: { type: ['integer', 'null'] }, timeToDetectMs: { type: ['number', 'null'] }, chain: { type: 'array' }, recommendations: { type: 'array', items: { type: 'string' } } } },
        ServiceMap: { type: 'object', properties: { nodes: { type: 'array' }, edges: { type: 'array' } } },
        Health: { type: 'object', additionalProperties: true },
      },
    },
  };
}
