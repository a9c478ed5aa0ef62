'use strict';
// How the OTLP bench marks requests for latency: the first span of every request has this trace
// id and carries the request's send time as its start time. The sink finds these spans with
// Buffer#indexOf (native memmem) instead of reading every span's fields: it shares the two cores
// with the collector, and the field walk had cost it 5-8 % of a core.
/** 16 bytes that do not occur by chance in the bench's other data (random hex ids, ASCII text). */
const STAMP_TRACE_ID = 'b3a7c0de5a17ba5eb3a7c0de5a17ba5e';
module.exports = { STAMP_TRACE_ID, STAMP_TRACE_ID_BYTES: Buffer.from(STAMP_TRACE_ID, 'hex') };
