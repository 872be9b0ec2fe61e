/** Types of build-stamp.cjs (the fingerprint of the sources dist/ was built from). */
export declare const DIST_DIR: string;
export declare const STAMP_FILE: string;
export declare function sourceStamp(root: string): string;
export declare function builtStamp(root: string): string | null;
export declare function isBuildCurrent(root: string): boolean;
export declare function currentBuiltEntry(root: string, name: string): string | null;
