import { benchEngine } from './engine.js';
import { benchGating } from './gating.js';
import { benchGolden } from './golden.js';
import { benchKnapsack } from './knapsack.js';
import { benchSpatial } from './spatial.js';
import { benchZeroBlocks } from './zero-blocks.js';

/**
 * `npm run bench`: every benchmark, measured side by side in one run.
 * GATEC_BENCH=golden,engine,zero-blocks,knapsack,gating,spatial picks. spatial runs only when
 * named: its five Yosys syntheses take about 40 minutes on two cores the first time (then cached).
 */
const only = process.env['GATEC_BENCH']?.split(',');
if (!only || only.includes('golden')) await benchGolden();
if (!only || only.includes('engine')) await benchEngine();
if (!only || only.includes('zero-blocks')) await benchZeroBlocks();
if (!only || only.includes('knapsack')) await benchKnapsack();
if (!only || only.includes('gating')) await benchGating();
if (only?.includes('spatial')) await benchSpatial();
