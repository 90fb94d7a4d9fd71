// Package safefile writes the CLI's output files without trusting what is already on disk.
//
// The files gmsasim writes hold passwords and keys (serve's credentials.json, keytabs, LDIF
// replicas), often into a directory the user named on the command line, sometimes a shared one
// such as /tmp. Two things go wrong with os.WriteFile there: a file that already exists keeps
// its mode (a world-readable credentials.json stays world-readable), and a symlink at the target
// is followed (someone else's link decides where our secrets land).
//
// WriteFile never opens the target: it writes a new file under a random name in the same
// directory (O_CREATE|O_EXCL, so it cannot be a file or link someone prepared), syncs it, gives it
// exactly the requested mode and renames it over the target. rename(2) replaces a symlink at the
// target rather than following it, and in a sticky directory (/tmp) it fails rather than replace
// another user's file. Readers see the old file or the new one, never a half-written one.
//
// PrepareDir is for a directory the program keeps files in (serve's --state-dir): it creates it
// 0700, or accepts an existing one only if it is a real directory owned by the current user that
// nobody else can write to; otherwise it refuses with an *UnsafeDirError saying why and what to do.
//
// Deliberately not covered: the directories above the target. Someone who can write to a parent
// can still rename the whole directory away; PrepareDir checks the directory itself only.
package safefile
