export { CroupierError, ERROR_CODES, type ErrorCode, hasCode, isErrorCode } from './catalogue.ts';
