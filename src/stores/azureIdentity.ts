/**
 * The @azure/identity credential for an Azure AD identity as azureAccount.ts chose it (a side's own, the
 * stack's azure-native settings, the ARM_* environment, or DefaultAzureCredential). One credential per
 * identity per provider process (clientCache.ts), so a token is fetched once and refreshed, not per copy.
 */
import { readFile } from "node:fs/promises";
import {
  ClientAssertionCredential,
  ClientSecretCredential,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from "@azure/identity";
import type { AzureIdentity } from "../azureAccount";
import { CopyError } from "../errors";
import { ClientCache } from "./clientCache";

const credentials = new ClientCache<TokenCredential>();

export function tokenCredential(identity: AzureIdentity): TokenCredential {
  return credentials.get(identity, () => build(identity));
}

function build(identity: AzureIdentity): TokenCredential {
  const options = identity.authorityHost ? { authorityHost: identity.authorityHost } : {};
  switch (identity.kind) {
    case "clientSecret":
      return new ClientSecretCredential(identity.tenantId, identity.clientId, identity.clientSecret, options);
    case "oidc":
      return new ClientAssertionCredential(identity.tenantId, identity.clientId, () => federatedToken(identity), options);
    case "managedIdentity":
      return identity.clientId ? new ManagedIdentityCredential({ clientId: identity.clientId }) : new ManagedIdentityCredential();
    case "default":
      return new DefaultAzureCredential(options);
  }
}

/** The federated (OIDC) token azure-native would present: given, in a file, or asked of the CI's token endpoint. */
async function federatedToken(identity: Extract<AzureIdentity, { kind: "oidc" }>): Promise<string> {
  if (identity.token) return identity.token;
  if (identity.tokenFile) return (await readFile(identity.tokenFile, "utf8")).trim();
  if (identity.requestUrl && identity.requestToken) {
    // GitHub Actions' ID token endpoint, as azure-native asks it: no Azure SDK speaks to it.
    const url = new URL(identity.requestUrl);
    url.searchParams.set("audience", "api://AzureADTokenExchange");
    const answer = await fetch(url, { headers: { Authorization: `Bearer ${identity.requestToken}`, Accept: "application/json" } });
    const body = (await answer.json().catch(() => ({}))) as { value?: string };
    if (answer.ok && body.value) return body.value;
    throw new CopyError(
      "AccessDenied",
      `the OIDC token request (azure-native:oidcRequestUrl) answered HTTP ${answer.status} with no token`,
    );
  }
  throw new CopyError(
    "InvalidInput",
    "azure-native:useOidc is set but no token is: set oidcToken, oidcTokenFilePath, or oidcRequestUrl with oidcRequestToken",
  );
}
