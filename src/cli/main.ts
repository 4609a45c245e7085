#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { GatecError } from '../errors.js';
import { importCommand } from './commands/import.js';
import { inspectCommand } from './commands/inspect.js';
import { runCommand } from './commands/run.js';

const program = new Command();
program
  .name('gatec')
  .description('Compile quantized, pruned, channel-gated ONNX networks into work-skipping Verilog and HLS C++')
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError(false);

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
  .addHelpText('after', '\nExample:\n  gatec import model_fp32.onnx --calib calib.json -o model.gir.json')
  .action(async (model: string, opts: { calib?: string; output: string }) => importCommand(model, opts));

program
  .command('run')
  .description('golden-model (bit-exact integer) inference')
  .argument('<model>', '.onnx model or IR (.json) file')
  .requiredOption('--inputs <data.json>', 'inputs: {"shape":[1,C,H,W],"inputs":[[...], ...]}')
  .option('--calib <data.json>', 'calibration inputs for an fp32 model')
  .option('--float', 'run the float reference executor on the ONNX graph instead')
  .option('--json', 'print one JSON object: outputs, outputsInt, top1, macs')
  .addHelpText('after', '\nExample:\n  gatec run model_qdq.onnx --inputs data.json --json')
  .action(async (model: string, opts: { inputs: string; json?: boolean; calib?: string; float?: boolean }) => runCommand(model, opts));

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
