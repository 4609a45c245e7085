import { readFile } from 'node:fs/promises';
import { badInput } from '../errors.js';

/** Reads a file the user named; a missing or unreadable one is a one-line bad-input error. */
export async function readInputFile(file: string): Promise<Buffer>;
export async function readInputFile(file: string, encoding: 'utf8'): Promise<string>;
export async function readInputFile(file: string, encoding?: 'utf8'): Promise<Buffer | string> {
  try {
    return encoding ? await readFile(file, encoding) : await readFile(file);
  } catch {
    throw badInput(file, 'no such file');
  }
}

/** Reads and parses a JSON file the user named (or a build wrote); bad JSON is a one-line error. */
export async function readJsonFile(file: string): Promise<unknown> {
  const text = await readInputFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw badInput(file, `not valid JSON (${(e as Error).message})`);
  }
}
