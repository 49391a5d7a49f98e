export { type LogisticOptions, type LogisticResult, logisticRegression } from './logistic.ts';
export { type Coefficient, type OlsOptions, type OlsResult, ols, type Prediction } from './ols.ts';
