#!/usr/bin/env node
import { runCli } from './taskq.program';

void runCli(process.argv);
