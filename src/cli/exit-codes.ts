/**
 * Exit statuses shared by every command, and said in their help: scripts and CI tell a policy
 * problem from a typo in the command line and from input that is not there.
 */
export const EXIT = {
  ok: 0,
  /** The input was read and is wrong: invalid objects, refused conversions, unknown pods. */
  invalid: 1,
  /** The command line is wrong: unknown flags, missing values, stray arguments. */
  usage: 2,
  /** The input cannot be read: a missing or unreadable file, standard input, or the cluster (sysexits EX_NOINPUT). */
  noInput: 66,
  /** A bug: reported with `internal error` (sysexits EX_SOFTWARE). */
  internal: 70,
} as const;

/** The lines every command's help ends with. */
export const EXIT_HELP = `
Exit status: 0 success; 1 invalid input; 2 usage error (flags, arguments); 66 the input
cannot be read (a missing or unreadable file, standard input, or the cluster); 70 internal error.
`;
