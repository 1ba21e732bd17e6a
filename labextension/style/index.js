import './base.css';
import './lineage.css';
import './explain.css';
import './verify.css';
