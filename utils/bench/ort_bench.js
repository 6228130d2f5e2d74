#!/usr/bin/env node
// Latency of one ONNX model under ONNX Runtime's CPU execution provider
// (npm package onnxruntime-node), measured the same way as a Kiln executable's
// `--bench N`: one warm-up run, then N timed runs of session.run() alone
// (inputs are created once, outside the timed region), and prints
//
//   latency_ms median=<ms> min=<ms> runs=<N>
//
// Usage:
//   node ort_bench.js MODEL.onnx [INPUT.npy ...] [--bench N] [--threads T]
//                     [--output-dir DIR]
//
// Inputs are NumPy .npy files (bench.py converts ONNX TensorProto .pb files),
// given in the order of the session's (non-initializer) graph inputs.
// --output-dir writes output_<i>.npy per graph output, from the last run.
// --profile PREFIX turns on ONNX Runtime's profiler (a JSON trace of every
// kernel call, PREFIX_<date>.json) and prints 'profile=<file>' at the end
// (utils/profile.py --ort reads it).
// Session options: graphOptimizationLevel 'all', intraOpNumThreads T,
// interOpNumThreads 1, executionMode 'sequential'.
//
// Setup (once): cd utils/bench && npm install --ignore-scripts
'use strict';

const fs = require('fs');
const path = require('path');

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  console.error('error: cannot load onnxruntime-node (' + e.message + ');\n' +
                'run: cd ' + __dirname + ' && npm install --ignore-scripts');
  process.exit(2);
}

function usage(code) {
  const msg = 'usage: node ort_bench.js MODEL.onnx [INPUT.npy ...] ' +
              '[--bench N] [--threads T] [--output-dir DIR] [--profile PREFIX] ' +
              '[--info]\n';
  (code ? process.stderr : process.stdout).write(msg);
  process.exit(code);
}

function die(msg) {
  console.error('error: ' + msg);
  process.exit(1);
}

function parseArgs(argv) {
  const a = { model: null, inputs: [], bench: 0, threads: 1, outDir: null,
              info: false, profile: null };
  for (let i = 0; i < argv.length; ++i) {
    const s = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) die(s + ' needs a value');
      return argv[++i];
    };
    const count = (v, min) => {
      if (!/^[0-9]+$/.test(v) || Number(v) < min)
        die(s + ' needs an integer >= ' + min + ", got '" + v + "'");
      return Number(v);
    };
    if (s === '--bench') a.bench = count(val(), 1);
    else if (s === '--threads') a.threads = count(val(), 1);
    else if (s === '--output-dir') a.outDir = val();
    else if (s === '--profile') a.profile = val();
    else if (s === '--info') a.info = true;
    else if (s === '-h' || s === '--help') usage(0);
    else if (s.startsWith('-')) die("unknown option '" + s + "'");
    else if (a.model === null) a.model = s;
    else a.inputs.push(s);
  }
  if (a.model === null) usage(2);
  return a;
}

// ---- .npy ------------------------------------------------------------------

// NumPy descr (little-endian or byte-order-free) -> [ORT type, TypedArray].
const NPY_TYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '<i8': ['int64', BigInt64Array], '<i4': ['int32', Int32Array],
  '<i2': ['int16', Int16Array], '|i1': ['int8', Int8Array],
  '<u8': ['uint64', BigUint64Array], '<u4': ['uint32', Uint32Array],
  '<u2': ['uint16', Uint16Array], '|u1': ['uint8', Uint8Array],
  '|b1': ['bool', Uint8Array], '<f2': ['float16', Uint16Array],
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY')
    die("'" + file + "' is not a .npy file");
  const major = buf[6];
  let hlen, hoff;
  if (major === 1) { hlen = buf.readUInt16LE(8); hoff = 10; }
  else if (major === 2 || major === 3) { hlen = buf.readUInt32LE(8); hoff = 12; }
  else die("'" + file + "': unsupported .npy version " + major);
  const header = buf.toString('latin1', hoff, hoff + hlen);
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) die("'" + file + "': bad .npy header");
  if (fortran[1] === 'True') die("'" + file + "': Fortran-order arrays are not supported");
  let d = descr[1];
  if (d[0] === '=') d = '<' + d.slice(1);
  if (d === '<b1' || d === '=b1') d = '|b1';
  if (d === '<i1') d = '|i1';
  if (d === '<u1') d = '|u1';
  const t = NPY_TYPES[d];
  if (!t) die("'" + file + "': unsupported dtype '" + descr[1] + "'");
  const dims = shape[1].split(',').map(x => x.trim()).filter(x => x.length)
                       .map(Number);
  const n = dims.reduce((p, x) => p * x, 1);
  const [type, Arr] = t;
  const off = hoff + hlen;
  if (buf.length - off < n * Arr.BYTES_PER_ELEMENT)
    die("'" + file + "' is truncated");
  // Copy into an aligned buffer (the data offset is only 16-byte aligned by
  // spec, and typed arrays need their element alignment).
  const bytes = new Uint8Array(n * Arr.BYTES_PER_ELEMENT);
  bytes.set(buf.subarray(off, off + bytes.length));
  let data = new Arr(bytes.buffer);
  if (type === 'bool') data = Uint8Array.from(data, x => (x ? 1 : 0));
  return new ort.Tensor(type, data, dims);
}

const ORT_TO_NPY = {
  float32: '<f4', float64: '<f8', int64: '<i8', int32: '<i4', int16: '<i2',
  int8: '|i1', uint64: '<u8', uint32: '<u4', uint16: '<u2', uint8: '|u1',
  bool: '|b1', float16: '<f2',
};

function writeNpy(file, tensor) {
  const descr = ORT_TO_NPY[tensor.type];
  if (!descr) die("cannot write output of type '" + tensor.type + "' as .npy");
  const dims = tensor.dims.map(Number);
  const shape = dims.length === 1 ? '(' + dims[0] + ',)'
                                  : '(' + dims.join(', ') + ')';
  let header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " +
               shape + ', }';
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const d = tensor.data;
  const body = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

// ---- main ------------------------------------------------------------------

function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableProfiling: a.profile !== null,
    profileFilePrefix: a.profile !== null ? a.profile : undefined,
  });
  if (a.info) {
    console.log('onnxruntime: ' + ort.env.versions.common);
    console.log('inputs: ' + session.inputNames.join(' '));
    console.log('outputs: ' + session.outputNames.join(' '));
    return;
  }
  if (a.inputs.length !== session.inputNames.length)
    die('the model has ' + session.inputNames.length + ' input(s) (' +
        session.inputNames.join(', ') + '), got ' + a.inputs.length + ' file(s)');
  const feeds = {};
  session.inputNames.forEach((name, k) => { feeds[name] = readNpy(a.inputs[k]); });

  let out = await session.run(feeds);  // warm-up (and the only run without --bench)
  if (a.bench > 0) {
    const times = new Array(a.bench);
    for (let i = 0; i < a.bench; ++i) {
      const t0 = process.hrtime.bigint();
      out = await session.run(feeds);
      times[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    }
    times.sort((x, y) => x - y);
    console.log('latency_ms median=' + median(times).toFixed(3) + ' min=' +
                times[0].toFixed(3) + ' runs=' + a.bench);
  }
  if (a.outDir !== null) {
    fs.mkdirSync(a.outDir, { recursive: true });
    session.outputNames.forEach((name, k) => {
      writeNpy(path.join(a.outDir, 'output_' + k + '.npy'), out[name]);
    });
  }
  if (a.profile !== null) {
    // onnxruntime-node returns no file name: the newest PREFIX_*.json.
    session.endProfiling();
    const dir = path.dirname(a.profile), base = path.basename(a.profile) + '_';
    const files = fs.readdirSync(dir)
                      .filter(f => f.startsWith(base) && f.endsWith('.json'))
                      .map(f => path.join(dir, f))
                      .sort((x, y) => fs.statSync(y).mtimeMs - fs.statSync(x).mtimeMs);
    if (files.length === 0) die('no profile written with prefix ' + a.profile);
    console.log('profile=' + files[0]);
  }
  await session.release();
}

main().catch(e => { console.error('error: ' + (e && e.message ? e.message : e)); process.exit(1); });
