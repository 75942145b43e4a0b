// ONNX Runtime (onnxruntime-node, CPU execution provider, graph optimization
// level "all") on one model: reads the inputs that run.py wrote (inputs.json
// naming raw little-endian files), runs `warmup` untimed and `runs` timed
// inferences on `threads` intra-op threads, writes each output's data beside
// inputs.json (ort_output_K.bin) and prints one line of JSON:
// {"median_ms", "min_ms", "max_ms", "outputs": {name: {file, dtype, dims}}}.
//
//   node ort_run.js MODEL.onnx INPUTS.json THREADS RUNS WARMUP
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const ARRAYS = {
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array,
  int32: Int32Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array,
};

async function main() {
  const [model, inputsJson, threads, runs, warmup] = process.argv.slice(2);
  const spec = JSON.parse(fs.readFileSync(inputsJson, 'utf8'));
  const feeds = {};
  for (const input of spec) {
    const bytes = fs.readFileSync(path.join(path.dirname(inputsJson), input.file));
    const Array = ARRAYS[input.dtype];
    if (!Array) throw new Error(`input ${input.name}: dtype ${input.dtype} is not handled`);
    const copy = new Uint8Array(bytes).buffer;
    feeds[input.name] = new ort.Tensor(input.dtype, new Array(copy), input.shape);
  }
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
  });
  let results;
  for (let i = 0; i < Number(warmup); ++i) results = await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(runs); ++i) {
    const start = process.hrtime.bigint();
    results = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  // Each output's raw little-endian data beside the inputs, for run.py to
  // compare with the references.
  const outputs = {};
  for (const [name, tensor] of Object.entries(results)) {
    const file = `ort_output_${Object.keys(outputs).length}.bin`;
    fs.writeFileSync(path.join(path.dirname(inputsJson), file),
                     Buffer.from(tensor.data.buffer, tensor.data.byteOffset,
                                 tensor.data.byteLength));
    outputs[name] = {file, dtype: tensor.type, dims: tensor.dims};
  }
  console.log(JSON.stringify({
    median_ms: times[Math.floor(times.length / 2)],
    min_ms: times[0], max_ms: times[times.length - 1], outputs,
  }));
}

main().catch((error) => { console.error(`ort_run: ${error.message}`); process.exit(1); });
