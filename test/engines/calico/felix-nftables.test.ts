import { defineOperatorSuite } from './suite.js';

defineOperatorSuite('nftables');
