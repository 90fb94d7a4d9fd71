// Package ps is the subset of the PowerShell language that scenario transcripts use: the
// tokenizer and parser (Parse, SplitLines), the parameter binder (Bind), the runtime (Session:
// variables, evaluation, statements) and PowerShell's default output formatting (Format) and
// error records (WriteError). It knows no cmdlet: the caller declares each cmdlet's parameters
// (Cmdlet, Param) and runs commands through a RunFunc; package scenarios holds the AD cmdlets.
// It imports nothing from the project.
//
// # What it implements
//
//   - Statements separated by ";" or lines, a line continued by a trailing backtick or an open
//     bracket; "# comments".
//   - "$var = value", a command in argument mode (barewords, -Param, -Param:value, the en and em
//     dash that documents print), or an expression.
//   - Quoting: '…' (a doubled quote inside is one quote; typographic quotes too), "…" with $var,
//     $(…) and backtick escapes.
//   - Arrays a,b and @(…); hashtables @{Key=value; …}; $true, $false, $null; numbers.
//   - Member access with member enumeration ((Get-X).Name), and the DateTime methods AddHours,
//     AddDays, AddMinutes, AddSeconds.
//   - Binding as PowerShell binds: exact or unambiguous-prefix names (case-insensitive), switches,
//     positions, mandatory parameters, the common parameters (-Server, -Confirm, -WhatIf,
//     -Verbose, -ErrorAction, -Credential), type conversion (string, string[], switch, bool,
//     int, DateTime, Hashtable, enums and flag enums, Guid) with PowerShell's error messages.
//   - Output: scalars one per line, objects in list view or, for Object.Table, one table;
//     collections in a list show $FormatEnumerationLimit (4) items. Dates print as en-US.
//
// # What it does not
//
// Pipelines, script blocks, operators other than "=" (no arithmetic, comparison, -and), if/for/
// foreach and functions, type literals and casts ([string]), splatting, parameter sets beyond
// Cmdlet.Optional, PowerShell's formatting files (Format-Table/-List and views), and an error
// record's position and category lines (WriteError prints the first line only). Every
// deliberate difference is marked "Divergence:".
package ps
