import { signingConfigSchema } from '../adapters-sdk/signing-config.js'

/**
 * JSON Schema of the hub's configuration file. Compiled once by ajv at boot; every option is
 * documented here and in `docs/configuration.md` with its default.
 */
const participantId = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }
const apiKeyHash = {
  type: 'string',
  pattern: '^sha256:[0-9a-f]{64}$',
  description: 'SHA-256 of the API key, as "sha256:<64 hex digits>" (see `egif keys hash`). Keys are never stored in clear.'
}
/** Accounts of a role that is not a participant (operators, auditors): an id and API key hashes. */
const accounts = {
  type: 'array',
  default: [],
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'apiKeys'],
    properties: {
      id: participantId,
      apiKeys: { type: 'array', minItems: 1, items: apiKeyHash }
    }
  }
}
const names = {
  type: 'object',
  additionalProperties: false,
  required: ['en'],
  properties: { th: { type: 'string' }, en: { type: 'string' } }
}

export const configSchema = {
  $id: 'https://egif-hub/config.schema.json',
  type: 'object',
  additionalProperties: false,
  required: ['participants'],
  properties: {
    demo: {
      type: 'boolean',
      default: false,
      description: 'Marks a demonstration configuration. Only then are API keys that start with "demo-" accepted.'
    },
    hub: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        id: { ...participantId, default: 'TH-EGIF-HUB' },
        host: { type: 'string', default: '0.0.0.0' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
        dataDir: { type: 'string', default: './data' },
        logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
        checkThreads: {
          type: 'integer',
          minimum: 0,
          maximum: 256,
          description: 'Worker threads that parse, validate and verify incoming documents (the CPU-heavy stages of intake). Default: the number of CPU cores minus one, at least 1; 0 runs the checks on the event loop.'
        },
        tls: {
          type: 'object',
          additionalProperties: false,
          required: ['keyFile', 'certFile'],
          properties: {
            keyFile: { type: 'string' },
            certFile: { type: 'string' },
            clientCaFiles: { type: 'array', items: { type: 'string' }, default: [], description: 'CAs whose client certificates are accepted for authentication.' }
          }
        },
        key: {
          type: 'object',
          additionalProperties: false,
          description: 'The hub\'s signing key for receipts and seals. Without it a key is generated in <dataDir>/keys.',
          properties: {
            pemFile: { type: 'string' },
            certFile: { type: 'string' },
            pkcs12File: { type: 'string' },
            passphraseEnv: { type: 'string', description: 'Name of the environment variable holding the PKCS#12 or PEM passphrase.' },
            alg: { enum: ['RS256', 'PS256', 'ES256', 'EdDSA'] },
            previous: { type: 'array', default: [], items: { type: 'object' }, description: 'Earlier keys still published in the JWKS (same shape, without previous).' }
          }
        }
      }
    },
    cluster: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Cluster mode (REDIS_URL set): every hub process sharing one Redis.',
      properties: {
        prefix: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$', default: 'egif', description: 'Key prefix shared by the processes of one cluster.' },
        lockDurationMs: { type: 'integer', minimum: 1000, default: 10000, description: 'How long a delivery stays with a process that stopped answering before another takes it over.' },
        sweepIntervalMs: { type: 'integer', minimum: 1000, default: 15000, description: 'How often each process looks for stored messages whose delivery job went missing (a crash between store and queue).' },
        queue: { enum: ['bullmq', 'stream'], default: 'bullmq', description: 'The delivery queue on Redis: BullMQ, or the hub\'s own on a Redis stream (fewer Redis commands per message; Redis 6.2 or later). Every process of a cluster uses the same one.' }
      }
    },
    trail: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'The audit trail (docs/audit.md): hash-chained records in <dataDir>/trail/<log>, RFC 9162 Merkle checkpoints signed with the hub key.',
      properties: {
        log: { type: 'string', pattern: '^[A-Za-z0-9_@:-][A-Za-z0-9._@:-]{0,127}$', description: 'This process\'s log name. Default: hub.id; in cluster mode hub.id + "." + the process id (set EGIF_TRAIL_LOG or this option for a name that survives restarts).' },
        checkpointEveryRecords: { type: 'integer', minimum: 1, default: 1000, description: 'Sign a checkpoint each time this many more records are on disk.' },
        checkpointEveryMs: { type: 'integer', minimum: 100, default: 10000, description: 'Sign a checkpoint at least this often while records arrive.' },
        tsaUrl: { type: 'string', pattern: '^https?://', description: 'RFC 3161 time-stamping authority that stamps each checkpoint. Default: none.' },
        tsaTimeoutMs: { type: 'integer', minimum: 100, default: 5000, description: 'How long to wait for the time-stamping authority.' }
      }
    },
    archive: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'The archive of document bodies: <dataDir>/archive/<day>/*.pack (docs/audit.md). Expiry removes bodies, never trail records.',
      properties: {
        retentionDays: { type: 'integer', minimum: 0, default: 0, description: 'Days a body is kept in the archive after receipt; 0 keeps bodies forever.' },
        sweepEveryMs: { type: 'integer', minimum: 1000, default: 3600000, description: 'How often expired bodies are removed.' }
      }
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxBodyBytes: { type: 'integer', minimum: 1024, default: 10485760 },
        requestTimeoutMs: { type: 'integer', minimum: 1000, default: 300000, description: 'How long a request may take to arrive whole, headers and body (408 after); a request\'s headers alone must arrive within 60 s.' },
        xmlMaxDepth: { type: 'integer', minimum: 4, default: 64 },
        xmlMaxAttributes: { type: 'integer', minimum: 4, default: 64 },
        xmlMaxElements: { type: 'integer', minimum: 16, default: 200000 },
        jsonMaxDepth: { type: 'integer', minimum: 4, default: 64 }
      }
    },
    delivery: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxAttempts: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
        initialBackoffMs: { type: 'integer', minimum: 1, default: 1000 },
        maxBackoffMs: { type: 'integer', minimum: 1, default: 600000 },
        timeoutMs: { type: 'integer', minimum: 100, default: 15000 },
        concurrency: { type: 'integer', minimum: 1, maximum: 1024, default: 512, description: 'Deliveries at once per hub process, over every recipient (a slow recipient holds its slots until its timeout; each slot is held until the delivery is on disk).' },
        perRecipient: { type: 'integer', minimum: 1, maximum: 1024, default: 128, description: 'Most deliveries at once to one recipient, per hub process: how many requests its system gets at the same time. A participant\'s delivery.maxConcurrent overrides it.' }
      }
    },
    documentTypes: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        builtin: { type: 'boolean', default: true, description: 'Register the built-in types of the schemas/ folder.' },
        folders: {
          type: 'array',
          default: [],
          items: { type: 'string' },
          description: 'Folders that each hold a manifest.json (same form as the built-in types).'
        },
        xsd: {
          type: 'array',
          default: [],
          description: 'XML types registered from a folder of XSDs.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'baseDir', 'namespace', 'rootElement', 'versions'],
            properties: {
              id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' },
              title: names,
              baseDir: { type: 'string', description: 'Folder the schema paths are relative to.' },
              namespace: { type: 'string' },
              rootElement: { type: 'string' },
              versionLocation: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  xpath: { type: 'string' },
                  namespaces: { type: 'object', additionalProperties: { type: 'string' } }
                }
              },
              defaultVersion: { type: 'string' },
              versions: {
                type: 'array',
                minItems: 1,
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['version', 'schema'],
                  properties: { version: { type: 'string' }, schema: { type: 'string' } }
                }
              },
              signature: {
                type: 'object',
                additionalProperties: false,
                required: ['policy'],
                properties: {
                  policy: { enum: ['required', 'optional', 'none'] },
                  forms: { type: 'array', items: { enum: ['xmldsig', 'xades-bes', 'jws-detached'] } }
                }
              }
            }
          }
        }
      }
    },
    participants: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name'],
        properties: {
          id: participantId,
          name: names,
          apiKeys: { type: 'array', default: [], items: apiKeyHash },
          clientCertificates: {
            type: 'array',
            default: [],
            items: { type: 'string' },
            description: 'TLS client certificates that authenticate as this participant: PEM files, or SHA-256 fingerprints "AB:CD:…".'
          },
          signingCertificates: {
            type: 'array',
            default: [],
            items: { type: 'string' },
            description: 'PEM files of the certificates this participant signs documents with (several for rotation).'
          },
          signingAuthorities: {
            type: 'array',
            default: [],
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['caFile', 'subject'],
              properties: {
                caFile: { type: 'string' },
                subject: { type: 'object', additionalProperties: { type: 'string' } }
              }
            }
          },
          signing: {
            ...signingConfigSchema,
            description: 'The participant\'s own signing key, held by the hub for adapters that sign on its behalf (a legacy system that cannot sign).'
          },
          inbound: {
            type: 'array',
            default: [],
            description: 'Inbound adapters that read this participant\'s legacy system and send what it produces through the hub as this participant.',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['adapter'],
              properties: {
                adapter: { type: 'string' },
                config: { type: 'object', default: {} }
              }
            }
          },
          delivery: {
            type: 'object',
            additionalProperties: false,
            default: { mode: 'pull' },
            required: ['mode'],
            properties: {
              mode: { enum: ['push', 'pull'] },
              adapter: { type: 'string', description: 'Adapter name for push delivery (e.g. http-push). Pull uses the mailbox.' },
              config: { type: 'object', default: {} },
              maxConcurrent: { type: 'integer', minimum: 1, maximum: 1024, description: 'Most deliveries at once to this receiver, per hub process (default the hub\'s delivery.perRecipient): for a system that takes only so many requests at the same time.' },
              retry: {
                type: 'object',
                additionalProperties: false,
                description: 'This receiver\'s own attempts, backoff and timeout; unset members come from the hub\'s delivery section.',
                properties: {
                  maxAttempts: { type: 'integer', minimum: 1, maximum: 100 },
                  initialBackoffMs: { type: 'integer', minimum: 1 },
                  maxBackoffMs: { type: 'integer', minimum: 1 },
                  timeoutMs: { type: 'integer', minimum: 100 }
                }
              }
            }
          }
        }
      }
    },
    operators: { ...accounts, description: 'Operators: may list and replay dead letters and read any message status.' },
    auditors: { ...accounts, description: 'Auditors: read-only access to every message status and the audit trail.' },
    routes: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'to', 'types'],
        properties: {
          from: { anyOf: [participantId, { const: '*' }, { type: 'array', items: participantId }] },
          to: { anyOf: [participantId, { const: '*' }, { type: 'array', items: participantId }] },
          types: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'Document type ids, or "*".' }
        }
      }
    }
  }
} as const
