// Every field a user can write or read has a doc comment in the published types (dist/*.d.ts), as the editor shows
// them: the arguments, the locators and credentials of both resources, and their outputs.
import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import path from "node:path";
import ts from "typescript";
import { repoRoot } from "../support/s3rig.ts";

const program = ts.createProgram([path.join(repoRoot, "dist", "index.d.ts")], { strict: true, skipLibCheck: true });
const checker = program.getTypeChecker();
const entry = checker.getSymbolAtLocation(program.getSourceFile(path.join(repoRoot, "dist", "index.d.ts"))!)!;
const exported = new Map(checker.getExportsOfModule(entry).map((s) => [s.name, s]));

/** The properties of an exported type (each member of a union, each locator's body), with no doc comment. */
function undocumented(name: string): string[] {
  const symbol = exported.get(name);
  assert.ok(symbol, `${name} is exported`);
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const type = checker.getDeclaredTypeOfSymbol(target);
  const missing = new Set<string>();
  const visit = (t: ts.Type, at: string) => {
    for (const member of t.isUnion() ? t.types : [t]) {
      for (const p of checker.getPropertiesOfType(member)) {
        if (p.name.startsWith("__") || p.name === "urn" || p.name === "id" || p.name === "pulumiResourceType") continue;
        const declared = p.declarations?.[0];
        if (declared && /node_modules/.test(declared.getSourceFile().fileName)) continue; // Pulumi's own
        if (ts.displayPartsToString(p.getDocumentationComment(checker)).trim() === "") missing.add(`${at}${p.name}`);
      }
    }
  };
  visit(type, `${name}.`);
  return [...missing];
}

for (const name of [
  "CopiedObjectArgs",
  "CopiedPrefixArgs",
  "CopyOptions",
  "CopiedObject",
  "CopiedPrefix",
  "PrefixOptions",
  "S3Locator",
  "AzureBlobLocator",
  "AzureFileLocator",
  "S3PrefixLocator",
  "AzureBlobPrefixLocator",
  "AzureFilePrefixLocator",
  "S3Credentials",
  "AssumeRole",
  "AzureServicePrincipal",
]) {
  test(`every field of ${name} has a doc comment in the published types`, () => {
    assert.deepEqual(undocumented(name), []);
  });
}

test("the check is not vacuous: a type with fields is read", () => {
  const symbol = checker.getAliasedSymbol(exported.get("CopyOptions")!);
  assert.ok(checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol)).length >= 15);
});
