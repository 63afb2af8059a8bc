/** A real loopback SMTP server (smtp-server) that keeps every mail it receives, parsed with mailparser. */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { DEFAULTS } from '../../src/config/schema.js';
import type { HearthConfig } from '../../src/config/types.js';

export interface ReceivedMail {
  from: string;
  to: string[];
  mail: ParsedMail;
}

export interface TestSmtp {
  received: ReceivedMail[];
  port: number;
  /** The `mail` settings of a Hearth that sends to this server. */
  config: HearthConfig['mail'];
  close(): Promise<void>;
}

export async function startTestSmtp(): Promise<TestSmtp> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
    onData(stream, session, cb) {
      void simpleParser(stream).then((mail) => {
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), mail });
        cb();
      }, cb);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    received, port,
    config: { ...structuredClone(DEFAULTS.mail), mode: 'smtp', host: '127.0.0.1', port, secure: false, requireTls: false },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
