// npm run docs: rewrites the options table of README.md from the schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { withOptionsTable } from 'qlog/testing';
import plugin from '../src/index.js';

const file = new URL('../README.md', import.meta.url);
writeFileSync(file, withOptionsTable(readFileSync(file, 'utf8'), plugin));
