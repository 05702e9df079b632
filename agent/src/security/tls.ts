/**
 * TLS for the Kafka listener: reads the PEM files named by -kafkaTLSCertFile, -kafkaTLSKeyFile and
 * (for mutual TLS) -kafkaTLSClientCAFile, checks each one and that certificate and key belong together,
 * and builds node:tls server options. With a client CA, clients must present a certificate it signed.
 * Errors name the flag and the file, never the key's content.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import tls from "node:tls";

export class SecurityConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecurityConfigError";
  }
}

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** Set: mutual TLS, a client certificate signed by this CA is required. */
  readonly clientCaFile?: string;
}

export interface LoadedTls {
  /** Options for tls.createServer / server.setSecureContext. */
  readonly options: tls.TlsOptions;
  /** The server certificate's subject and expiry (for the start-up log). */
  readonly subject: string;
  readonly validTo: string;
  readonly mutual: boolean;
}

function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES"
          ? "permission denied"
          : code === "EISDIR"
            ? "is a directory"
            : String((err as Error).message);
    throw new SecurityConfigError(`cannot read ${flag} ${file}: ${reason}`);
  }
}

/** Every certificate in a PEM bundle (throws naming the flag when there is none or one is malformed). */
function certificates(flag: string, file: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString("utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    throw new SecurityConfigError(`${flag} ${file}: no PEM certificate found (expected -----BEGIN CERTIFICATE-----)`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new SecurityConfigError(`${flag} ${file}: certificate ${i + 1} is not a valid PEM certificate`);
    }
  });
}

/** Reads and checks the listener's TLS files. Throws SecurityConfigError naming the flag. */
export function loadTls(files: TlsFiles): LoadedTls {
  const cert = readPem("-kafkaTLSCertFile", files.certFile);
  const key = readPem("-kafkaTLSKeyFile", files.keyFile);
  const [leaf] = certificates("-kafkaTLSCertFile", files.certFile, cert);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new SecurityConfigError(`-kafkaTLSKeyFile ${files.keyFile}: not a valid unencrypted PEM private key`);
  }
  if (!leaf!.checkPrivateKey(privateKey)) {
    throw new SecurityConfigError(
      `-kafkaTLSKeyFile ${files.keyFile} does not belong to the certificate in -kafkaTLSCertFile ${files.certFile}`,
    );
  }
  const options: tls.TlsOptions = { cert, key, minVersion: "TLSv1.2" };
  if (files.clientCaFile !== undefined) {
    const ca = readPem("-kafkaTLSClientCAFile", files.clientCaFile);
    certificates("-kafkaTLSClientCAFile", files.clientCaFile, ca);
    Object.assign(options, { ca, requestCert: true, rejectUnauthorized: true });
  }
  try {
    tls.createSecureContext(options);
  } catch (err) {
    throw new SecurityConfigError(`-kafkaTLSCertFile/-kafkaTLSKeyFile: TLS refused them: ${(err as Error).message}`);
  }
  return {
    options,
    subject: leaf!.subject.replace(/\n/g, ", "),
    validTo: leaf!.validTo,
    mutual: files.clientCaFile !== undefined,
  };
}
