import { defineOperatorSuite } from './suite.js';

defineOperatorSuite('iptables');
