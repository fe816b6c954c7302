#!/usr/bin/env node
// The `koe` command line.
import { AgentConfigError } from '../agents/index.js';
import { ConfigError, loadDotEnv } from '../config/index.js';
import { callCommand } from './call.js';
import { campaignCommand } from './campaign.js';
import { engineCommand } from './engine.js';
import { simulateCommand } from './simulate.js';
import { startCommand } from './start.js';

const USAGE = `Usage: koe <command>

Commands:
  start        Run the Koe server (Twilio webhooks, media streams, the built-in engine, health and metrics)
  engine       Run only the built-in engine: an OpenAI Realtime-protocol server at /v1/realtime
  simulate     Call an agent without a phone: play a caller recording, print the conversation
  call         Place an outbound call through a running Koe: koe call <to> --agent ID [--wait]
  campaign     Outbound campaigns on a running Koe: create (from a CSV), start, pause, resume, cancel,
               list, status [--watch], export
  help         Show this help

Run koe <command> --help for a command's options.
Configuration comes from environment variables (and ./.env); see the README. call and campaign reach
the running Koe at KOE_URL (default http://127.0.0.1:$PORT) and log in with KOE_ADMIN_PASSWORD, else
the password file Koe generated in KOE_DATA_DIR (default ./data).`;

async function main(argv: string[]): Promise<void> {
  const [command] = argv;
  switch (command) {
    case 'start':
      await startCommand();
      return;
    case 'engine':
      await engineCommand();
      return;
    case 'simulate':
      process.exitCode = await simulateCommand(argv.slice(1));
      return;
    case 'call':
      loadDotEnv();
      process.exitCode = await callCommand(argv.slice(1));
      return;
    case 'campaign':
      loadDotEnv();
      process.exitCode = await campaignCommand(argv.slice(1));
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      console.error(`Unknown command "${command}".\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof AgentConfigError) {
    console.error(err.message);
    process.exitCode = 2;
    return;
  }
  console.error(err);
  process.exitCode = 1;
});
