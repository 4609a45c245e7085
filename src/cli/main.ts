#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { GatecError } from '../errors.js';
import { buildCommand, type BuildOptions } from './commands/build.js';
import { csimCommand, type CsimCommandOptions } from './commands/csim.js';
import { gateCommand, type GateOptions } from './commands/gate.js';
import { importCommand } from './commands/import.js';
import { inspectCommand } from './commands/inspect.js';
import { pruneCommand, type PruneCliOptions } from './commands/prune.js';
import { reportCommand, type ReportOptions } from './commands/report.js';
import { runCommand, type RunOptions } from './commands/run.js';
import { simCommand, type SimOptions } from './commands/sim.js';
import { sparsityCommand, type SparsityOptions } from './commands/sparsity.js';

const program = new Command();
program
  .name('gatec')
  .description('Compile quantized, pruned, channel-gated ONNX networks into work-skipping Verilog and HLS C++')
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError(false)
  .addHelpText(
    'after',
    '\nExample:\n  gatec build model_qdq.onnx -o hw-out/mynet && gatec sim hw-out/mynet --inputs data.json   # then open hw-out/mynet/report.html',
  );

program
  .command('inspect')
  .description('list ops, shapes, parameters, MACs and support status of a model')
  .argument('<model>', '.onnx model or IR (.json) file')
  .option('--calib <data.json>', 'calibration inputs for an fp32 model')
  .option('--json', 'print one JSON object')
  .addHelpText('after', '\nExample:\n  gatec inspect model_qdq.onnx')
  .action(async (model: string, opts: { calib?: string; json?: boolean }) => inspectCommand(model, opts));

program
  .command('import')
  .description('import an ONNX model (fp32 with --calib, QDQ or QOperator int8) into an IR file')
  .argument('<model.onnx>', 'ONNX model')
  .requiredOption('-o, --output <model.gir.json>', 'IR file to write')
  .option('--calib <data.json>', 'calibration inputs (required for fp32 models)')
  .option('--gating <gating.json>', 'channel gating from training (docs/gating.md)')
  .option('--quiet', 'no progress bar')
  .addHelpText('after', '\nExample:\n  gatec import model_fp32.onnx --calib calib.json -o model.gir.json')
  .action(async (model: string, opts: { calib?: string; gating?: string; output: string; quiet?: boolean }) => importCommand(model, opts));

program
  .command('run')
  .description('golden-model (bit-exact integer) inference')
  .argument('<model>', '.onnx model or IR (.json) file')
  .requiredOption('--inputs <data.json>', 'inputs: {"shape":[1,C,H,W],"inputs":[[...], ...]}')
  .option('--calib <data.json>', 'calibration inputs for an fp32 model')
  .option('--gating <gating.json>', 'channel gating from training for an .onnx model (docs/gating.md)')
  .option('--float', 'run the float reference executor on the ONNX graph instead')
  .option('--json', 'print one JSON object: outputs, outputsInt, top1, macs, sparsity, gating')
  .option('--quiet', 'no progress bar')
  .addHelpText('after', '\nExample:\n  gatec run model_qdq.onnx --inputs data.json --json')
  .action(async (model: string, opts: RunOptions) => runCommand(model, opts));

program
  .command('sparsity')
  .description('choose zero-block shapes and epsilons per activation tensor that save the most DRAM traffic within an accuracy budget')
  .argument('<model>', '.onnx model or IR (.json) file')
  .requiredOption('--calib <data.json>', 'calibration inputs with "labels" (also the PTQ data of an fp32 model)')
  .option('--max-drop <points>', 'largest top-1 accuracy drop in percentage points versus the unannotated model', '1')
  .option('--blocks <list>', 'candidate block shapes CxHxW, comma-separated (default 1x1x1,8x1x1,8x2x2,8x4x4,16x2x2)')
  .option('--epsilons <list>', 'candidate epsilons, comma-separated (default 0,1,2,4,8)')
  .option('-o, --output <model.gir.json>', 'write the annotated IR')
  .option('--json', 'print one JSON object: accuracy, per-tensor choices and candidates, totals')
  .option('--quiet', 'no progress bar')
  .addHelpText('after', '\nExample:\n  gatec sparsity model_qdq.onnx --calib calib.json --max-drop 1 -o model.sparse.gir.json')
  .action(async (model: string, opts: SparsityOptions) => sparsityCommand(model, opts));

program
  .command('gate')
  .description('channel gating after training: base channels and thresholds per conv from calibration data, within an accuracy budget')
  .argument('<model>', '.onnx model or IR (.json) file')
  .requiredOption('--calib <data.json>', 'calibration inputs with "labels" (also the PTQ data of an fp32 model)')
  .option('--base <fraction>', 'base channels as a fraction of each gated conv\'s input channels', '0.25')
  .option('--target-skip <fraction>', 'target fraction of gated-off outputs per layer', '0.5')
  .option('--max-drop <points>', 'largest top-1 accuracy drop in percentage points versus the ungated model', '1')
  .option('--layers <names>', 'gate only these convs (comma-separated layer names)')
  .option('-o, --output <model.gir.json>', 'write the gated IR')
  .option('--json', 'print one JSON object: accuracy, per-layer choices and MACs, totals')
  .option('--quiet', 'no progress bar')
  .addHelpText('after', '\nExample:\n  gatec gate model_qdq.onnx --calib calib.json --base 0.25 --target-skip 0.5 --max-drop 1 -o model.gated.gir.json')
  .action(async (model: string, opts: GateOptions) => gateCommand(model, opts));

program
  .command('prune')
  .description('resource-aware structured pruning: the most important structures within a hardware budget (multi-dimensional knapsack)')
  .argument('<model>', '.onnx model or IR (.json) file')
  .requiredOption('--arch <arch>', 'spatial (hls4ml patterns: DSP, LUT, BRAM) or engine (filter groups of PE-array width: cycles)')
  .requiredOption('--budget <list>', 'resource budget, e.g. dsp=40,lut=50%,bram=2,cycles=3000 (a percent is of the unpruned model)')
  .requiredOption('--calib <data.json>', 'labelled inputs for the accuracy before and after (also the PTQ data of an fp32 model)')
  .option('--structure <kind>', 'pattern (spatial default), filter (engine default) or block')
  .option('--importance <file.json>', 'per-weight importance from training (docs/pruning.md); default: magnitude')
  .option('--score <l1|l2>', 'magnitude score of a structure: sum of |w| or of w^2, weights times their scale', 'l1')
  .option('--reuse <N>', 'spatial: reuse factor of every layer', '1')
  .option('-o, --output <model.gir.json>', 'write the pruned IR')
  .option('--mask-out <mask.json>', 'write the pruning mask per layer (for fine-tuning, training/mlp16.py)')
  .option('--json', 'print one JSON object: structures, per-layer counts, resources before/after, accuracy, solver')
  .addHelpText('after', '\nExample:\n  gatec prune model_qdq.onnx --arch spatial --budget dsp=50% --calib calib.json -o model.pruned.gir.json')
  .action(async (model: string, opts: PruneCliOptions) => pruneCommand(model, opts));

program
  .command('build')
  .description('compile a model into hardware sources and memory images (engine: RTL, program, weights)')
  .argument('<model>', '.onnx model or IR (.json) file')
  .requiredOption('-o, --output <dir>', 'output directory, hw-out/<name>; <name> names the top module')
  .option('--arch <arch>', 'architecture: engine or spatial', 'engine')
  .option('--target <targets>', 'targets: rtl, hls (comma-separated)', 'rtl')
  .option('--calib <data.json>', 'calibration inputs for an fp32 model')
  .option('--gating <gating.json>', 'channel gating from training for an .onnx model (docs/gating.md)')
  .option('--part <part>', 'FPGA part of hls/run_hls.tcl (default xczu7ev-ffvc1156-2-e)')
  .option('--reuse <n>', 'spatial: reuse factor of every conv/fc layer (default 1: fully parallel)')
  .option('--reuse-per-layer <file>', 'spatial: JSON {"<layer>": R, ...} or {"default": R, "layers": {...}}')
  .option('--pe <ocxic>', 'PE array: output-channel rows x input-channel columns (default 8x8)')
  .option('--bus-bytes <n>', 'DRAM data bus width in bytes (default 16)')
  .option('--in-buf <size>', 'input buffer size, e.g. 64K (default 64K)')
  .option('--w-buf <size>', 'weight buffer size (default 64K)')
  .option('--out-buf <size>', 'output buffer size (default 64K)')
  .option('--param-rows <n>', 'parameter buffer rows, one per group of output channels (default 64)')
  .option('--fetch-depth <n>', 'instruction FIFO entries (default 16)')
  .option('--skip-lanes <n>', 'conv taps examined per cycle for zero-block MAC skipping (default 4)')
  .option('--skip-taps <n>', 'tap-table entries; a conv with more taps per pixel does not skip MACs (default 1024)')
  .option('--clock-mhz <mhz>', 'clock for reported times (default 200)')
  .option('--dram-bw <bytes>', 'DRAM bytes per cycle and direction, for the cycle model (default 16)')
  .option('--dram-latency <cycles>', 'DRAM read latency in cycles, for the cycle model (default 20)')
  .option('--quiet', 'no progress bar')
  .addHelpText('after', '\nAlso writes report.html (gatec report).\n\nExample:\n  gatec build model_qdq.onnx --pe 16x8 --w-buf 128K -o hw-out/mynet')
  .action(async (model: string, opts: BuildOptions) => buildCommand(model, opts));

program
  .command('sim')
  .description('simulate an engine build in Verilator and compare every layer with the golden model')
  .argument('<hw-out/name>', 'output directory of gatec build --arch engine --target rtl')
  .requiredOption('--inputs <data.json>', 'inputs: {"shape":[1,C,H,W],"inputs":[[...], ...]}')
  .option('--json', 'print one JSON object: outputs, outputsInt, top1, match, cycles, dramBytes, macs, layers, samples')
  .option('--dram-bw <bytes>', 'DRAM bytes per cycle and direction (default: the build configuration)')
  .option('--dram-latency <cycles>', 'DRAM read latency in cycles (default: the build configuration)')
  .option('--trace [file.fst]', 'record sample 0 as an FST waveform (default <hw-out/name>/waves.fst; a traced Verilator build of its own)')
  .option('--quiet', 'no progress bar')
  .addHelpText('after', '\nAlso refreshes report.json (its "simulation" section) and report.html.\n\nExample:\n  gatec sim hw-out/mynet --inputs data.json --json\n  gatec sim hw-out/mynet --inputs data.json --trace   # then: gtkwave hw-out/mynet/waves.fst')
  .action(async (dir: string, opts: SimOptions) => simCommand(dir, opts));

program
  .command('csim')
  .description('run the HLS kernel of an engine build in C simulation (g++) and compare every layer with the golden model')
  .argument('<hw-out/name>', 'output directory of gatec build --arch engine --target hls (or rtl,hls)')
  .requiredOption('--inputs <data.json>', 'inputs: {"shape":[1,C,H,W],"inputs":[[...], ...]}')
  .option('--json', 'print one JSON object: outputs, outputsInt, top1, match, dramBytes, macs, layers, samples')
  .option('--quiet', 'no progress bar')
  .addHelpText('after', '\nAlso refreshes report.json (its "simulation" section) and report.html.\n\nExample:\n  gatec csim hw-out/mynet --inputs data.json --json')
  .action(async (dir: string, opts: CsimCommandOptions) => csimCommand(dir, opts));

program
  .command('report')
  .description('write report.html of a build: layer table, plots of MACs, DRAM bytes and cycles, zero-block maps, gating, resources, accuracy (engine); stages and their cost (spatial)')
  .argument('<hw-out/name>', 'output directory of gatec build (gatec sim / csim add the measured figures)')
  .option('--quiet', 'do not print the file written')
  .addHelpText('after', '\nThe page is self-contained (plotting library inlined): open it from disk, no network needed.\n\nExample:\n  gatec report hw-out/mynet && xdg-open hw-out/mynet/report.html')
  .action(async (dir: string, opts: ReportOptions) => reportCommand(dir, opts));

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 1;
  } else if (e instanceof GatecError) {
    process.stderr.write(`gatec: error: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    const err = e as Error;
    process.stderr.write(`gatec: internal error: ${err.message} (set GATEC_DEBUG=1 for details)\n`);
    if (process.env['GATEC_DEBUG']) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 3;
  }
}
