/**
 * Where "contact our support" leads in this product: the project's issue tracker. One constant so
 * the hint texts, the popup link and the diagnostics report never disagree.
 */
export const REPORT_PROBLEM_URL = 'https://github.com/mailkeep/mailkeep/issues';
