import type { OutputFile } from '../engine/build.js';
import type { SpatialPlan } from './plan.js';

export function spatialHlsFiles(plan: SpatialPlan, name: string, part?: string): OutputFile[] {
  void plan;
  void name;
  void part;
  return [];
}
