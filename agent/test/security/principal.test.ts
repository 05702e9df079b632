/**
 * Principals of mutual-TLS clients (security/principal.ts): the certificate subject in RFC 2253 form as
 * Java writes it, and Kafka's ssl.principal.mapping.rules — splitting, parsing and applying them as
 * Kafka's SslPrincipalMapper does (the cases of Kafka's SslPrincipalMapperTest), and refusing what
 * Kafka refuses, naming the rule.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { runCommand } from "../../../e2e/support/processes.js";
import { PrincipalMapper, PrincipalMappingError, subjectToDn } from "../../src/security/principal.js";
import { tempDir } from "../support/agents.js";

describe("mutual-TLS principals", () => {
  describe("certificate subjects", () => {
    it("are written in RFC 2253 form, most specific part first, with RFC 2253 escapes", async function () {
      this.timeout(30_000);
      const dir = tempDir("dn");
      try {
        const r = await runCommand(
          "openssl",
          [
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-days",
            "1",
            "-subj",
            "/C=US/ST=CA/O=Example, Inc./OU=orders/CN=orders-app",
          ],
          { cwd: dir.path, timeoutMs: 30_000 },
        );
        assert.equal(r.code, 0, r.stderr);
        const cert = new X509Certificate(readFileSync(path.join(dir.path, "c.pem")));
        assert.equal(subjectToDn(cert.subject), "CN=orders-app,OU=orders,O=Example\\, Inc.,ST=CA,C=US");
      } finally {
        dir.remove();
      }
    });

    it("join the parts of a multi-valued RDN with +", () => {
      assert.equal(subjectToDn("C=US\nOU=a + UID=42\nCN=x"), "CN=x,OU=a+UID=42,C=US");
    });
  });

  describe("mapping rules", () => {
    const describe_ = (rules: string) => `[${PrincipalMapper.parse(rules).describe().join(", ")}]`;

    it("split and parse as Kafka's SslPrincipalMapper does", () => {
      const cases: Array<[string, string]> = [
        ["[DEFAULT]", "DEFAULT"],
        ["[RULE:/]", "RULE://"],
        ["[RULE:/.*]", "RULE:/.*/"],
        ["[RULE:/.*/L]", "RULE:/.*/L"],
        ["[RULE:/, DEFAULT]", "RULE://,DEFAULT"],
        ["[RULE:/, DEFAULT]", "  RULE:// ,  DEFAULT  "],
        ["[RULE:   /     , DEFAULT]", "  RULE:   /     / ,  DEFAULT  "],
        ["[RULE:  /     /U, DEFAULT]", "  RULE:  /     /U   ,DEFAULT  "],
        ["[RULE:([A-Z]*)/$1/U, RULE:([a-z]+)/$1, DEFAULT]", "  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  "],
        ["[]", ",   , , ,      , , ,   "],
        ["[RULE:/, DEFAULT]", ",,RULE://,,,DEFAULT,,"],
        ["[RULE: /   , DEFAULT]", ",  , RULE: /   /    ,,,   DEFAULT, ,   "],
        ["[RULE:\\/\\\\\\(\\)\\n\\t/\\/\\/]", "RULE:\\/\\\\\\(\\)\\n\\t/\\/\\//"],
        ["[RULE:\\**\\/+/*/L, RULE:\\/*\\**/**]", "RULE:\\**\\/+/*/L,RULE:\\/*\\**/**/"],
        [
          "[RULE:,RULE:,/,RULE:,\\//U, RULE:,/RULE:,, RULE:,RULE:,/L,RULE:,/L, RULE:, DEFAULT, /DEFAULT, DEFAULT]",
          "RULE:,RULE:,/,RULE:,\\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, /DEFAULT/,DEFAULT",
        ],
      ];
      for (const [expected, rules] of cases) assert.equal(describe_(rules), expected, rules);
      // Empty means the default here (the flag's default), where Kafka would have no rule at all.
      assert.equal(describe_(""), "[DEFAULT]");
    });

    it("refuse what Kafka refuses, naming the rule", () => {
      for (const bad of [
        "default",
        "DEFAUL",
        "DEFAULT/L",
        "DEFAULT/U",
        "RULE:CN=(.*?),OU=ServiceUsers.*/$1",
        "rule:^CN=(.*?),OU=ServiceUsers.*$/$1/",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/L",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/U",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/LU",
      ])
        assert.throws(
          () => PrincipalMapper.parse(bad),
          (err: unknown) => err instanceof PrincipalMappingError && /invalid rule "/.test(err.message),
          bad,
        );
      assert.throws(() => PrincipalMapper.parse("RULE:(/x/"), /rule "RULE:\(\/x\/": Invalid regular expression/);
    });

    it("map names as Kafka does: first rule that matches the whole DN wins, with groups and case", () => {
      const mapper = PrincipalMapper.parse(
        [
          "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L",
          "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L",
          "RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U",
          "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U",
          "DEFAULT",
        ].join(", "),
      );
      assert.equal(mapper.name("CN=Duke,OU=ServiceUsers,O=Org,C=US"), "duke");
      assert.equal(mapper.name("CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US"), "duke@sme");
      assert.equal(mapper.name("cn=duke,ou=sme,dc=mycp,dc=com"), "DUKE@SME");
      assert.equal(mapper.name("cN=duke,OU=JavaSoft,O=Sun Microsystems"), "DUKE");
      assert.equal(mapper.name("OU=JavaSoft,O=Sun Microsystems,C=US"), "OU=JavaSoft,O=Sun Microsystems,C=US");
      const comma = PrincipalMapper.parse("RULE:^CN=((\\\\, *|\\w)+)(,.*|$)/$1/,DEFAULT");
      assert.equal(comma.name("CN=Tkac\\, Adam,OU=ITZ,DC=geodis,DC=cz"), "Tkac\\, Adam");
    });

    it("leave a DN no rule matches without a name; group references past the last group stay literal", () => {
      const mapper = PrincipalMapper.parse("RULE:^CN=([a-z]+),O=Example$/$1/");
      assert.equal(mapper.name("CN=app,O=Example"), "app");
      assert.equal(mapper.name("CN=app,O=Other"), null);
      assert.equal(PrincipalMapper.parse("RULE:^CN=(.*)$/$1-$2-\\$1/").name("CN=x"), "x-$2-$1");
      assert.equal(PrincipalMapper.parse("RULE:^CN=(.*)$/$12/").name("CN=x"), "x2");
      assert.equal(PrincipalMapper.DEFAULT.name("CN=x,O=y"), "CN=x,O=y");
    });
  });
});
