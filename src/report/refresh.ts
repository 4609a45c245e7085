import type { EngineSimResult } from '../sim/engine-sim.js';
import { goldenFigures } from './golden-figures.js';
import { writeReportHtml } from './html.js';
import { simulationSection, writeSimulationSection } from './simulation.js';

/**
 * After gatec sim / csim: report.json's `simulation` section replaced with this run's figures
 * (and the golden model's on the same samples), then report.html redrawn from it. Written before
 * the verdict, so a run that fails still leaves its figures to look at.
 */
export async function refreshReport(
  hwDir: string,
  result: EngineSimResult,
  backend: 'sim' | 'csim',
  inputsFile: string,
  inputs: readonly ArrayLike<number>[],
  labels: readonly number[] | undefined,
): Promise<void> {
  const golden = goldenFigures(result.model, inputs, labels);
  await writeSimulationSection(hwDir, simulationSection(result, backend, inputsFile, labels, golden));
  await writeReportHtml(hwDir);
}
