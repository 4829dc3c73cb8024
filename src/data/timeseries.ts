// Delimited numeric tables (LSTNet-style multivariate time series: one time
// step per line, one column per series).

import { join } from 'node:path';
import { datasetDir } from './paths.js';
import { FieldReader, RowBuilder, findDataFile, readDataFile } from './text.js';

export interface NumericTable {
  rows: number;
  cols: number;
  /** [rows, cols], row-major. */
  data: Float32Array;
  /** Column names when the file has a header line. */
  header?: string[];
}

export interface DelimitedOptions {
  delimiter?: 'comma' | 'whitespace';
  /** First non-blank line holds column names. Default false. */
  header?: boolean;
}

/** Reads a delimited numeric file (gzipped or not) into a dense float32 matrix. */
export function loadDelimited(path: string, options: DelimitedOptions = {}): NumericTable {
  const reader = new FieldReader(readDataFile(path), path, options.delimiter ?? 'comma');
  let header: string[] | undefined;
  if (options.header) {
    if (!reader.next()) throw new Error(`${path}: empty file, expected a header line`);
    header = Array.from({ length: reader.count }, (_, i) => reader.text(i).trim());
  }
  let table: RowBuilder | undefined;
  while (reader.next()) {
    table ??= new RowBuilder(header?.length ?? reader.count, reader.lineCount());
    if (reader.count !== table.cols) {
      throw reader.error(`expected ${table.cols} columns (${header ? 'as in the header' : 'as on the first row'}), got ${reader.count}`);
    }
    const base = table.addRow();
    for (let j = 0; j < table.cols; j++) table.values[base + j] = reader.number(j);
  }
  if (!table) throw new Error(`${path}: no data rows`);
  return { rows: table.rows, cols: table.cols, data: table.finish(), header };
}

/** LSTNet's exchange_rate: 7588 daily rows x 8 currencies. */
export function loadExchangeRate(options: { dir?: string } = {}): NumericTable {
  const dir = options.dir ?? datasetDir('exchange_rate');
  return loadDelimited(findDataFile(join(dir, 'exchange_rate.txt')));
}
