export const notADefault = 1;
