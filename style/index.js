import './base.css';
import './importoffer.css';
