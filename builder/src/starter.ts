/** What `tapio-builder init` writes. */
export const STARTER_MANIFEST = `# A Tapio distribution manifest. Build it with: tapio-builder build --manifest <this file>
dist:
  name: my-collector          # output file: <output_path>/<name>.js
  description: My Tapio collector
  version: 0.1.0
  output_path: ./dist
  node: ">=20.6.0"

# Each entry: an npm spec ("@tapio/receiver-otlp@^0.1.0"), a local path ("./my-plugin"),
# a tarball ("./my-plugin-1.0.0.tgz"), or {package, version} / {path}.
receivers:
  - "@tapio/receiver-otlp@^0.1.0"
processors:
  - "@tapio/processor-batch@^0.1.0"
exporters:
  - "@tapio/exporter-debug@^0.1.0"
extensions: []

# The config the distribution runs when started without --config.
default_config:
  receivers:
    otlp:
      protocols:
        grpc: {endpoint: "localhost:4317"}
        http: {endpoint: "localhost:4318"}
  processors:
    batch: {}
  exporters:
    debug: {verbosity: normal}
  service:
    pipelines:
      traces: {receivers: [otlp], processors: [batch], exporters: [debug]}
      logs: {receivers: [otlp], processors: [batch], exporters: [debug]}
      metrics: {receivers: [otlp], processors: [batch], exporters: [debug]}
`;
