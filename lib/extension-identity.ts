// The manifest key pins the extension ID. The ID is derived from the key:
// sha256(DER public key), first 32 hex digits mapped 0-f -> a-p. A unit test checks the pair agrees.
export const EXTENSION_PUBLIC_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArPcjJk+R+62yJ2zAICez6naf6awB0lUKv3/9v8vvZJAZmzpsFrGtMcXeurzaCJonmslUTCIHsQNOo9YAj5yubcvaJc3plJw+xQw4S+VqFWNqz887q/Rb1/KFPf3xoY38owPIPieknx8YACx5I8lddtuUSA2D5jnuFfz8/xZ0WuWAuW8pYq4ZVU2FHDC3n3oA2StYjqIjUO663hAY6nIA/KZXSI7k6S3coai8tWrXlLRZ7F3ODAD2e/HJ4+ufX6DTmDgJCLXLFUgr3Bis2rVw/T/Ncgz8QwlupHKuzDy1mqmdKL0k3zgjZvnKNa2j5CaIpV3Ma/K8UIQ9UMHZVCnDCQIDAQAB';
export const EXTENSION_ID = 'hcleocenjfjlndljodidhhioddiidmfc';
export const EXTENSION_ORIGIN = `chrome-extension://${EXTENSION_ID}`;
// Firefox names an extension by the add-on ID in browser_specific_settings.gecko.id, not by a key:
// a Firefox build must declare this ID for the native host's allowed_extensions to let it in.
export const FIREFOX_EXTENSION_ID = 'relay@mailkeep.org';
